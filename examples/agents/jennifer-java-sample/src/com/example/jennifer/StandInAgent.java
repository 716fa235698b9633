package com.example.jennifer;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileWriter;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.util.Properties;

/**
 * Stand-in for the JENNIFER Java agent, for jbuild's examples and tests. It
 * monitors nothing: on JVM start it reads the file named by
 * -Djennifer.config, prints the server settings it found, and checks that its
 * log directory is writable by the running user (as the real agent needs).
 * It never throws: an agent must not stop the application.
 */
public final class StandInAgent {
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
