// Runs AWS DynamoDB Local bound to one host (127.0.0.1 by default).
//
// DynamoDB Local has no option to choose the address it listens on: its
// DynamoDBProxyServer builds a Jetty Server(port), which listens on every
// interface. This launcher builds the same server from the same command line
// (ServerRunner.createServerFromCommandLineArgs, the code path of
// DynamoDBLocal.jar's own main), sets the host on its Jetty connector before
// starting it, and exits when its standard input closes, so that the server
// does not outlive the Go process that started it.
//
// Run in Java's source-file mode (JEP 330), with DynamoDBLocal.jar and
// DynamoDBLocal_lib/* on the class path. testkit/dynamolocal embeds this file.

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("callfn.dynamodblocal.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field f = DynamoDBProxyServer.class.getDeclaredField("server");
    f.setAccessible(true);
    Server server = (Server) f.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) {
      throw new IllegalStateException("DynamoDB Local has no connector to bind");
    }
    for (Connector c : connectors) {
      ((ServerConnector) c).setHost(host);
    }

    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
        }
      } catch (Exception e) {
        // stdin broke: the parent is gone either way
      }
      System.exit(0);
    }, "callfn-stdin-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();

    proxy.start();
    System.out.println("callfn: DynamoDB Local listening on " + host);
    proxy.join();
  }
}
