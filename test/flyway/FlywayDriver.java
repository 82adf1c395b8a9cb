import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.ValidateResult;

/**
 * Drives real Flyway for the cross-check tests.
 * Usage: java -cp CP FlywayDriver.java migrate|info|validate JDBC_URL USER PASSWORD LOCATION...
 * info prints one tab-separated line per migration: rank, version, description, type, script, checksum, state.
 */
public class FlywayDriver {
  public static void main(String[] args) {
    String[] locations = new String[args.length - 4];
    for (int i = 4; i < args.length; i++) locations[i - 4] = "filesystem:" + args[i];
    Flyway flyway = Flyway.configure()
        .dataSource(args[1], args[2], args[3])
        .locations(locations)
        .cleanDisabled(true)
        .load();
    switch (args[0]) {
      case "migrate" -> System.out.println("migrated " + flyway.migrate().migrationsExecuted);
      case "validate" -> {
        ValidateResult result = flyway.validateWithResult();
        System.out.println("valid " + result.validationSuccessful);
        result.invalidMigrations.forEach(m -> System.out.println("invalid " + m.version + " " + m.description + " " + m.errorDetails.errorMessage));
        if (!result.validationSuccessful) System.exit(1);
      }
      case "info" -> {
        for (MigrationInfo m : flyway.info().all()) {
          System.out.println(String.join("\t",
              String.valueOf(m.getInstalledRank()),
              m.getVersion() == null ? "" : m.getVersion().toString(),
              m.getDescription(),
              m.getType().name(),
              m.getScript(),
              String.valueOf(m.getChecksum()),
              m.getState().getDisplayName()));
        }
      }
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }
}
