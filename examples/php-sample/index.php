<?php
// The PHP sample of jbuild: a tiny HTTP app (PHP's built-in server with this
// file as its router) that answers 200 on / (with $APP_GREETING) and on
// /health. Nothing in it knows about the agent: jbuild adds the agent's
// extension to the image (an ini file in PHP_INI_SCAN_DIR).
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
header('Content-Type: text/plain; charset=utf-8');
if ($path === '/') {
    echo (getenv('APP_GREETING') ?: 'Hello from the jbuild PHP sample'), "\n";
} elseif ($path === '/health') {
    echo "ok\n";
} else {
    http_response_code(404);
    echo "not found\n";
}
