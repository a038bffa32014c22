package dptrain.driver.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.testing.S3Server;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * dptrain's file writes on s3a://, against an S3 API server in this JVM: where a rename is a copy
 * and a delete, a result is uploaded under its own name, a failed upload leaves the previous object,
 * and a run's lock stays fresh although the store ignores setTimes.
 */
class S3FilesIT {
    private static S3Server s3;
    private static FileSystem fs;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3Server.start();
        fs = s3.fileSystem();
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void aResultIsUploadedUnderItsOwnNameAndReplacesTheOldOneWithoutACopy() throws IOException {
        AtomicFiles files = new AtomicFiles(s3.hadoop());
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(s3.uri("replace/history.json"));
        files.write(target, out -> out.write("first".getBytes(StandardCharsets.US_ASCII)));
        files.write(target, out -> out.write("second".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(List.of("replace/history.json", "replace/history.json"), uploadsUnder("replace/"),
                "each write one upload to the target itself, no temporary object to copy from");
        assertEquals("second", read(target));
        assertEquals(List.of("replace/history.json"), files("replace/"));
    }

    @Test
    void anUploadWhoseContentFailsIsAbortedAndLeavesThePreviousObject() throws IOException {
        AtomicFiles files = new AtomicFiles(s3.hadoop());
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(s3.uri("abort/model.zip"));
        files.write(target, out -> out.write("the good model".getBytes(StandardCharsets.US_ASCII)));
        EnvironmentException e = assertThrows(EnvironmentException.class, () -> files.write(target, out -> {
            out.write(new byte[300_000]);
            throw new IOException("No space left on device");
        }));
        assertEquals(target + ": cannot be written: No space left on device", e.getMessage());
        assertEquals("the good model", read(target), "a failed upload must not publish what it had");
        assertEquals(List.of("abort/model.zip"), files("abort/"), "nothing else is left");
    }

    @Test
    void aRunsLockOnS3IsRenewedByUploadingItAgainSinceTheStoreIgnoresSetTimes() throws Exception {
        String folder = s3.uri("locked");
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(folder, OutputLock.FILE);
        List<String> notices = new ArrayList<>();
        try (OutputLock lock = OutputLock.acquire(folder, s3.hadoop(), "app-s3", notices::add)) {
            OutputLock.Holder before = OutputLock.read(fs, file);
            // The store's times have whole seconds.
            Thread.sleep(2100);
            fs.setTimes(file, System.currentTimeMillis(), -1);
            assertEquals(before.touched(), OutputLock.read(fs, file).touched(), "s3a ignores setTimes");
            lock.touch();
            OutputLock.Holder after = OutputLock.read(fs, file);
            assertTrue(after.touched().isAfter(before.touched()), before.touched() + " -> " + after.touched());
            assertEquals(before.token(), after.token(), "still this run's lock");
            assertEquals("app-s3", after.application());
        }
        assertTrue(notices.isEmpty(), notices.toString());
        assertEquals(List.of(), s3.keys("locked/" + OutputLock.FILE), "released on close");
    }

    private static List<String> uploadsUnder(String prefix) {
        return s3.uploads().stream().filter(key -> key.startsWith(prefix) && !key.endsWith("/")).toList();
    }

    /** The objects under {@code prefix}, without the markers of folders. */
    private static List<String> files(String prefix) {
        return s3.keys(prefix).stream().filter(key -> !key.endsWith("/")).toList();
    }

    private static String read(org.apache.hadoop.fs.Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}
