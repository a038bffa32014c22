package dptrain.driver.files;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Tells an I/O failure of the filesystem itself from one of the path it was asked about. A
 * filesystem that cannot be reached (nothing listens, an unknown host, no answer) and an object
 * store that refuses the credentials are environment failures: the path may well be right. An s3a
 * bucket that does not exist is the path's fault. Hadoop's s3a classes are not needed to tell:
 * S3A translates the SDK's failures into {@code java.net} and {@code java.nio.file} exceptions,
 * and its own are recognised by name.
 */
public final class StoreFailures {
    private StoreFailures() {
    }

    /**
     * The failure to report for {@code e}, met on {@code path}: an {@link EnvironmentException} when
     * the filesystem cannot be reached or refuses the credentials, otherwise an {@link InputException}.
     *
     * @param what what failed, e.g. {@code "s3a://b/x.csv: cannot be opened"}; the reason follows it
     */
    public static RuntimeException of(String what, Path path, IOException e, Configuration conf) {
        return environment(what, path, e, conf).map(RuntimeException.class::cast)
                .orElseGet(() -> new InputException(what + ": " + inputReason(path, e), e));
    }

    /** {@code e} as an {@link EnvironmentException} when the filesystem cannot be reached or refuses credentials. */
    public static Optional<EnvironmentException> environment(String what, Path path, Throwable e, Configuration conf) {
        return environmentReason(path, e, conf).map(reason -> new EnvironmentException(what + ": " + reason, e));
    }

    /** As {@link #of}, but always an environment failure: for writes during a run, whose folder was fine at first. */
    public static EnvironmentException duringRun(String what, Path path, IOException e, Configuration conf) {
        return new EnvironmentException(what + ": " + environmentReason(path, e, conf).orElse(InputFiles.reason(e)), e);
    }

    /** The sentence for an unreachable filesystem or refused credentials; empty for other failures. */
    static Optional<String> environmentReason(Path path, Throwable e, Configuration conf) {
        boolean s3a = "s3a".equals(path.toUri().getScheme());
        String where = s3a ? "the S3 endpoint " + s3Endpoint(path, conf) : "the filesystem of " + root(path);
        String check = s3a ? "check fs.s3a.endpoint and that the object store is up"
                : "check the URI's host and port and that the filesystem is up";
        Throwable unknownHost = find(e, UnknownHostException.class);
        if (unknownHost != null) {
            return Optional.of(where + " cannot be reached: the host '" + firstLine(unknownHost) + "' is unknown; "
                    + check);
        }
        Throwable unreachable = find(e, ConnectException.class);
        if (unreachable == null) {
            unreachable = find(e, NoRouteToHostException.class);
        }
        if (unreachable == null) {
            unreachable = find(e, SocketTimeoutException.class);
        }
        if (unreachable != null) {
            return Optional.of(where + " cannot be reached (" + deepest(unreachable) + "); " + check);
        }
        if (s3a && named(e, "NoAwsCredentialsException", "NoAuthWithAWSException")) {
            return Optional.of("no S3 credentials were found (" + deepest(e) + "); set fs.s3a.access.key and "
                    + "fs.s3a.secret.key, or fs.s3a.aws.credentials.provider");
        }
        if (s3a && find(e, AccessDeniedException.class) != null) {
            return Optional.of(where + " refused the request (" + deepest(e) + "); check the credentials "
                    + "(fs.s3a.access.key and fs.s3a.secret.key, or fs.s3a.aws.credentials.provider) and that they "
                    + "may use the bucket " + path.toUri().getHost());
        }
        return Optional.empty();
    }

    /** The reason of a failure that is the path's: a bucket that does not exist, or the filesystem's own words. */
    static String inputReason(Path path, IOException e) {
        if (named(e, "UnknownStoreException")) {
            return "the bucket '" + path.toUri().getHost() + "' does not exist; check the URI's bucket";
        }
        return InputFiles.reason(e);
    }

    /** The endpoint s3a uses for {@code path}'s bucket: its own setting, else the general one, else AWS's. */
    private static String s3Endpoint(Path path, Configuration conf) {
        String key = "fs.s3a.bucket." + path.toUri().getHost() + ".endpoint";
        if (conf.getTrimmed(key, "").isEmpty()) {
            key = "fs.s3a.endpoint";
        }
        String endpoint = conf.getTrimmed(key, "");
        return endpoint.isEmpty() ? "of AWS (fs.s3a.endpoint is not set)" : endpoint + " (" + key + ")";
    }

    private static String root(Path path) {
        java.net.URI uri = path.toUri();
        return uri.getScheme() + "://" + (uri.getAuthority() == null ? "" : uri.getAuthority());
    }

    private static Throwable find(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (type.isInstance(t)) {
                return t;
            }
        }
        return null;
    }

    private static boolean named(Throwable e, String... simpleNames) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            for (String name : simpleNames) {
                if (t.getClass().getSimpleName().equals(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The first line of the innermost cause's message: the SDK's and Hadoop's wrappers repeat it at length. */
    private static String deepest(Throwable e) {
        Throwable last = e;
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                last = t;
            }
        }
        return firstLine(last);
    }

    private static String firstLine(Throwable t) {
        return InputFiles.reason(t);
    }
}
