import java.util.concurrent.CountDownLatch;
import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

/**
 * Runs one real Elasticsearch 7.10.2 node in this JVM (codelibs' cluster runner) on the given
 * host and ports, until SIGTERM. Usage: java -cp … EsRunner.java HOME HOST HTTP_PORT TRANSPORT_PORT CLUSTER
 */
public class EsRunner {
  public static void main(String[] args) throws Exception {
    String home = args[0], host = args[1], cluster = args[4];
    int httpPort = Integer.parseInt(args[2]), transportPort = Integer.parseInt(args[3]);
    ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
    // The runner only accepts HTTP ports up to 9299; outboxctl has already chosen a free one.
    runner.setMaxHttpPort(-1);
    runner.onBuild((index, settings) -> {
      settings.put("network.host", host);
      settings.put("http.port", String.valueOf(httpPort));
      settings.put("transport.port", String.valueOf(transportPort));
      settings.put("discovery.type", "single-node");
      settings.put("action.auto_create_index", "true");
      settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
    }).build(ElasticsearchClusterRunner.newConfigs()
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
    System.out.println("outboxctl: elasticsearch node started on " + host + ":" + httpPort);
    stop.await();
  }
}
