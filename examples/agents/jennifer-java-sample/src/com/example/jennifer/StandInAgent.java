package com.example.jennifer;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileWriter;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * Stand-in for the JENNIFER Java agent, for jbuild's examples and tests. It
 * monitors nothing: on JVM start it reads the file named by
 * -Djennifer.config, prints the server settings it found, checks that its
 * log directory is writable by the running user (as the real agent needs),
 * and, as the real agent's data connection does, connects to
 * server_address:server_port and sends one line with its domain id (in the
 * background: the application never waits for it), so `jbuild verify --run`
 * sees an agent report. It never throws: an agent must not stop the
 * application.
 */
public final class StandInAgent implements Runnable {
    private final String addr, port, domain;

    private StandInAgent(String addr, String port, String domain) {
        this.addr = addr;
        this.port = port;
        this.domain = domain;
    }

    /** The data connection: one line with the domain id, then close. */
    public void run() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(addr, Integer.parseInt(port)), 5000);
            OutputStream out = s.getOutputStream();
            out.write(("JENNIFER domain_id=" + domain + " agent=java-stand-in\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            System.err.println("jennifer stand-in agent: connected to " + addr + ":" + port);
        } catch (Exception e) {
            System.err.println("jennifer stand-in agent: cannot connect to " + addr + ":" + port + ": " + e);
        }
    }

    public static void premain(String args, Instrumentation inst) {
        try {
            String conf = System.getProperty("jennifer.config");
            if (conf == null) {
                System.err.println("jennifer stand-in agent: -Djennifer.config is not set");
                return;
            }
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(conf)) {
                p.load(in);
            }
            System.err.println("jennifer stand-in agent: config=" + conf
                + " server_address=" + p.getProperty("server_address", "")
                + " server_port=" + p.getProperty("server_port", "")
                + " domain_id=" + p.getProperty("domain_id", ""));
            String addr = p.getProperty("server_address", "").trim();
            String port = p.getProperty("server_port", "5000").trim();
            String domain = p.getProperty("domain_id", "1000").trim();
            if (!addr.isEmpty()) {
                Thread t = new Thread(new StandInAgent(addr, port, domain), "jennifer-stand-in");
                t.setDaemon(true);
                t.start();
            }
            String dir = p.getProperty("log_dir");
            File logDir = dir != null && !dir.isEmpty() ? new File(dir)
                : new File(new File(conf).getAbsoluteFile().getParentFile().getParentFile(), "logs");
            try (FileWriter w = new FileWriter(new File(logDir, "standin.log"), true)) {
                w.write("started\n");
                System.err.println("jennifer stand-in agent: log_dir " + logDir + " writable");
            } catch (Exception e) {
                System.err.println("jennifer stand-in agent: log_dir " + logDir + " NOT writable: " + e);
            }
        } catch (Exception e) {
            System.err.println("jennifer stand-in agent: " + e);
        }
    }
}
