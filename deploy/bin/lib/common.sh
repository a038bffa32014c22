# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this file
# Shared by the scripts in deploy/: where the build put the jars, which java to run, and the JVM
# flags Spark 4 needs on Java 17. Sourced, never run; it only defines variables and functions.

dptrain_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
dptrain_target="$dptrain_repo/driver/target"
dptrain_java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# Flags Spark 4 needs on Java 17 when it is not started by Spark's own launcher (from Spark's JavaModuleOptions).
spark_java17_opens=(
  -XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.type=pooled
)

# The driver module's own jar (not the -app application jar), or nothing when it is not built.
dptrain_driver_jar() {
  local jar
  for jar in "$dptrain_target"/dptrain-driver-*.jar; do
    case "$jar" in *-sources.jar | *-tests.jar | *-app.jar) continue ;; esac
    [ -f "$jar" ] && { echo "$jar"; return 0; }
  done
  return 0
}

# The bench module's jar (dptrain.bench.*, not in the application jar), or nothing when it is not built.
dptrain_bench_jar() {
  local jar
  for jar in "$dptrain_repo"/bench/target/dptrain-bench-*.jar; do
    case "$jar" in *-sources.jar | *-tests.jar) continue ;; esac
    [ -f "$jar" ] && { echo "$jar"; return 0; }
  done
  return 0
}

# The shaded application jar for spark-submit, or nothing when it is not built.
dptrain_app_jar() {
  local jar
  for jar in "$dptrain_target"/dptrain-driver-*-app.jar; do
    [ -f "$jar" ] && { echo "$jar"; return 0; }
  done
  return 0
}

# Exits with code 2 and a hint unless the driver and the classpath files that list its dependencies are built.
# Usage: dptrain_require_build NAME [FILE...]   (NAME prefixes the message; FILEs must exist too)
dptrain_require_build() {
  local name="$1" f
  shift
  for f in "$(dptrain_driver_jar)" "$dptrain_target/classpath-runtime.txt" "$dptrain_target/classpath-spark.txt" "$@"; do
    if [ -z "$f" ] || [ ! -f "$f" ]; then
      echo "$name: the driver is not built; run 'mvn -q install -DskipTests' in $dptrain_repo first" >&2
      exit 2
    fi
  done
}

# Spark's resolved jars as a Java classpath: those of scope provided in the driver's POM, and those
# Spark shares with DL4J or worker-lib, which Maven resolved at compile scope (jackson, commons-io, ...).
spark_classpath() {
  echo "$(cat "$dptrain_target/classpath-spark.txt"):$(cat "$dptrain_target/classpath-spark-shared.txt")"
}

# Makes DIR/jars hold links to Spark's resolved jars, so that DIR can serve as SPARK_HOME: a Worker
# builds the classpath of its executors and drivers from $SPARK_HOME/jars.
make_spark_home() {
  local home="$1" jar
  rm -rf "$home/jars"
  mkdir -p "$home/jars"
  spark_classpath | tr ':' '\n' | while IFS= read -r jar; do
    [ -n "$jar" ] && ln -s "$jar" "$home/jars/$(basename "$jar")"
  done
}
