package jbuildapp;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The Java sample app of jbuild's end-to-end tests: answers "ok" on
 * 127.0.0.1:$APP_PORT, followed by the app.marker system property that the
 * base image sets through its own JAVA_TOOL_OPTIONS, so a test sees whether
 * the base's options survived wrapping, and the JVM's maximum heap in MiB
 * (an -Xmx of the base's JAVA_TOOL_OPTIONS).
 */
public final class App {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(System.getenv().getOrDefault("APP_PORT", "8080"));
        HttpServer srv = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        srv.createContext("/", ex -> {
            long maxHeapMB = Runtime.getRuntime().maxMemory() >> 20;
            byte[] body = ("ok marker=" + System.getProperty("app.marker") + " maxHeapMB=" + maxHeapMB + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        srv.start();
        System.err.println("app: listening on 127.0.0.1:" + port);
    }
}
