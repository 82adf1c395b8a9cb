import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

/**
 * The elasticsearch test image's server: one Elasticsearch 7.10.2 node (codelibs' cluster runner)
 * configured like the upstream image, from the environment: variables named like settings
 * ("discovery.type=single-node") and ES_SETTING_* ones (ES_SETTING_CLUSTER_NAME, "__" for "_").
 * xpack.* settings are left out (this engine has no X-Pack) and so is any setting the node reports
 * as unknown, with a line saying so. Runs until SIGTERM. Compiled by test/images/prepare.ts.
 */
public class EsContainer {
  static final String HOME = "/usr/share/elasticsearch";
  static final Pattern SETTING = Pattern.compile("[a-z0-9_]+(\\.[a-z0-9_-]+)+");
  static final Pattern UNKNOWN = Pattern.compile("unknown setting \\[([^\\]]+)\\]");

  public static void main(String[] args) throws Exception {
    Map<String, String> settings = new TreeMap<>();
    // The upstream image's elasticsearch.yml and defaults, and what a single test node needs.
    settings.put("cluster.name", "docker-cluster");
    settings.put("network.host", "0.0.0.0");
    settings.put("http.port", "9200");
    settings.put("transport.port", "9300");
    settings.put("path.data", HOME + "/data");
    settings.put("path.logs", HOME + "/logs");
    settings.put("discovery.type", "single-node");
    settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
    String hostname = System.getenv("HOSTNAME");
    if (hostname != null && !hostname.isEmpty()) settings.put("node.name", hostname);
    for (Map.Entry<String, String> e : new TreeMap<>(System.getenv()).entrySet()) {
      String name = e.getKey();
      String key = null;
      if (SETTING.matcher(name).matches()) key = name;
      else if (name.startsWith("ES_SETTING_"))
        key = name.substring("ES_SETTING_".length()).replace("__", "\u0001").replace('_', '.').replace('\u0001', '_').toLowerCase();
      if (key == null) continue;
      if (key.startsWith("xpack.")) {
        System.out.println("outboxctl test image: leaving out " + key + "=" + e.getValue() + " (no X-Pack in Elasticsearch 7.10.2 OSS)");
        continue;
      }
      settings.put(key, e.getValue());
    }

    for (int attempt = 0; ; attempt++) {
      ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
      try {
        start(runner, settings);
        return;
      } catch (RuntimeException failure) {
        String unknown = unknownSetting(failure);
        try {
          runner.close();
        } catch (Exception ignored) {
          // the node never started
        }
        if (unknown == null || !settings.containsKey(unknown) || attempt > 20) throw failure;
        System.out.println("outboxctl test image: leaving out " + unknown + "=" + settings.remove(unknown) + " (unknown to Elasticsearch 7.10.2)");
      }
    }
  }

  static String unknownSetting(Throwable t) {
    for (; t != null; t = t.getCause()) {
      Matcher m = UNKNOWN.matcher(String.valueOf(t.getMessage()));
      if (m.find()) return m.group(1);
    }
    return null;
  }

  static void start(ElasticsearchClusterRunner runner, Map<String, String> settings) throws InterruptedException {
    int httpPort = Integer.parseInt(settings.get("http.port"));
    // The runner looks for a free HTTP port from base+1 up to 9299 unless told otherwise.
    runner.setMaxHttpPort(-1);
    runner.onBuild((index, builder) -> settings.forEach(builder::put))
        .build(ElasticsearchClusterRunner.newConfigs()
            .numOfNode(1)
            .baseHttpPort(httpPort - 1)
            .basePath(HOME + "/runner")
            .clusterName(settings.get("cluster.name"))
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
    List<String> shown = new ArrayList<>();
    settings.forEach((k, v) -> shown.add(k + "=" + v));
    System.out.println("outboxctl test image: elasticsearch node started with " + String.join(" ", shown));
    stop.await();
  }
}
