package jbuildtest;

import java.io.FileInputStream;
import java.io.FileWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * A stand-in for the JENNIFER Java agent, for jbuild's end-to-end tests: it
 * is activated the same way (-javaagent:.../jennifer.jar
 * -Djennifer.config=.../conf/jennifer.conf), reads the same "key = value"
 * file, and connects to server_address:server_port like the real agent's
 * data connection. It sends one line and closes; it never blocks the app.
 */
public final class Agent {
    public static void premain(String args, Instrumentation inst) {
        String path = System.getProperty("jennifer.config");
        Properties conf = new Properties();
        if (path == null) {
            System.err.println("jbuild-test-agent: -Djennifer.config is not set");
            return;
        }
        try (InputStreamReader r = new InputStreamReader(new FileInputStream(path), StandardCharsets.UTF_8)) {
            conf.load(r); // "key = value" lines and # comments are properties syntax
        } catch (IOException e) {
            System.err.println("jbuild-test-agent: reading " + path + ": " + e);
            return;
        }
        String addr = conf.getProperty("server_address", "").trim();
        String port = conf.getProperty("server_port", "5000").trim();
        String domain = conf.getProperty("domain_id", "1000").trim();
        String logDir = conf.getProperty("log_dir", "").trim();
        System.err.println("jbuild-test-agent: config " + path + " server " + addr + ":" + port + " domain " + domain);
        Thread t = new Thread(() -> {
            String result;
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(addr, Integer.parseInt(port)), 5000);
                OutputStream out = s.getOutputStream();
                out.write(("JENNIFER domain_id=" + domain + " agent=java\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                result = "connected to " + addr + ":" + port;
            } catch (Exception e) {
                result = "cannot connect to " + addr + ":" + port + ": " + e;
            }
            System.err.println("jbuild-test-agent: " + result);
            if (!logDir.isEmpty()) {
                try (FileWriter w = new FileWriter(logDir + "/jennifer-test-agent.log", true)) {
                    w.write(result + "\n");
                } catch (IOException e) {
                    System.err.println("jbuild-test-agent: log_dir " + logDir + " not writable: " + e);
                }
            }
        }, "jbuild-test-agent");
        t.setDaemon(true);
        t.start();
    }
}
