<?php
// The PHP sample app of jbuild's end-to-end tests (php -S).
echo "ok\n";
