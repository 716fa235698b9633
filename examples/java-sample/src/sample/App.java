package sample;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * The Java sample of jbuild: a tiny HTTP app on $PORT (default 8080) that
 * answers 200 on / (with $APP_GREETING) and on /health. Nothing in it knows
 * about the agent: jbuild adds the agent to the image.
 */
public final class App {
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
        String greeting = System.getenv().getOrDefault("APP_GREETING", "Hello from the jbuild Java sample");
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/", ex -> {
            switch (ex.getRequestURI().getPath()) {
                case "/" -> reply(ex, 200, greeting + "\n");
                case "/health" -> reply(ex, 200, "ok\n");
                default -> reply(ex, 404, "not found\n");
            }
        });
        server.setExecutor(Executors.newFixedThreadPool(8));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> server.stop(1)));
        server.start();
        System.out.println("java-sample: listening on :" + port);
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
