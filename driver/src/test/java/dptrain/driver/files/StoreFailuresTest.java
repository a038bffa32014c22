package dptrain.driver.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.AccessDeniedException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.AccessControlException;
import org.junit.jupiter.api.Test;

/** Which I/O failures are the environment's (exit 5) and which the path's (exit 3); S3TrainingIT shows them on s3a. */
class StoreFailuresTest {
    private final Configuration conf = new Configuration();

    @Test
    void aNamenodeThatRefusesConnectionsIsAnEnvironmentFailureNamingTheFilesystem() {
        // As Hadoop's IPC client reports it: its own ConnectException around the socket's.
        IOException e = new ConnectException("Call From h/127.0.0.1 to nn:8020 failed on connection exception: "
                + "java.net.ConnectException: Connection refused; For more details see: "
                + "http://wiki.apache.org/hadoop/ConnectionRefused");
        e.initCause(new ConnectException("Connection refused"));
        RuntimeException failure = StoreFailures.of("hdfs://nn:8020/data/x.csv: cannot be opened",
                new Path("hdfs://nn:8020/data/x.csv"), e, conf);
        assertInstanceOf(EnvironmentException.class, failure);
        assertEquals("hdfs://nn:8020/data/x.csv: cannot be opened: the filesystem of hdfs://nn:8020 cannot be reached "
                + "(Connection refused); check the URI's host and port and that the filesystem is up",
                failure.getMessage());
    }

    @Test
    void aPermissionRefusedByHdfsStaysTheInputsFault() {
        IOException denied = new AccessControlException(
                "Permission denied: user=alice, access=READ_EXECUTE, inode=\"/locked\"\n\tat ...");
        RuntimeException failure = StoreFailures.of("hdfs://nn:8020/locked: cannot be listed",
                new Path("hdfs://nn:8020/locked"), denied, conf);
        assertInstanceOf(InputException.class, failure);
        assertEquals("hdfs://nn:8020/locked: cannot be listed: Permission denied: user=alice, access=READ_EXECUTE, "
                + "inode=\"/locked\"", failure.getMessage());
    }

    @Test
    void aRequestS3RefusesNamesTheEndpointOfTheBucketAndTheCredentialSettings() {
        conf.set("fs.s3a.endpoint", "http://s3.example:9000");
        conf.set("fs.s3a.bucket.runs.endpoint", "http://other.example:9000");
        IOException e = new AccessDeniedException(
                "s3a://runs/a: getFileStatus on s3a://runs/a: S3Exception: Forbidden");
        e.initCause(new IllegalStateException("Forbidden (Service: S3, Status Code: 403, Request ID: 1)"));
        RuntimeException failure = StoreFailures.of("--output s3a://runs/a: cannot be written",
                new Path("s3a://runs/a"), e, conf);
        assertInstanceOf(EnvironmentException.class, failure);
        assertEquals("--output s3a://runs/a: cannot be written: the S3 endpoint http://other.example:9000 "
                + "(fs.s3a.bucket.runs.endpoint) refused the request "
                + "(Forbidden (Service: S3, Status Code: 403, Request ID: 1)); "
                + "check the credentials (fs.s3a.access.key and fs.s3a.secret.key, or fs.s3a.aws.credentials.provider) "
                + "and that they may use the bucket runs", failure.getMessage());
    }
}
