package dptrain.driver.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputLockTest {
    @TempDir
    Path dir;
    private final Configuration conf = new Configuration();
    private final List<String> notices = new ArrayList<>();

    @Test
    void aSecondRunIsRefusedNamingTheHolderUntilTheFirstReleasesTheFolder() throws IOException {
        try (OutputLock first = OutputLock.acquire(dir.toString(), conf, "app-1", notices::add)) {
            ParameterException e = assertThrows(ParameterException.class,
                    () -> OutputLock.acquire(dir.toString(), conf, "app-2", notices::add));
            String message = e.message(ParameterException::flag);
            assertTrue(message.startsWith("--output " + dir + " is in use by another dptrain run (host "), message);
            assertTrue(message.contains("pid " + ProcessHandle.current().pid()) && message.contains("application app-1"),
                    message);
        }
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "released on close, nothing left beside it");
        }
        try (OutputLock again = OutputLock.acquire(dir.toString(), conf, "app-3", notices::add)) {
            assertTrue(notices.isEmpty(), notices.toString());
        }
    }

    @Test
    void aLockLeftByAProcessOfThisHostThatHasEndedIsTakenOver() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        writeLock(InetAddress.getLocalHost().getHostName(), gone.pid(), "app-crashed");
        try (OutputLock lock = OutputLock.acquire(dir.toString(), conf, "app-new", notices::add)) {
            assertEquals(1, notices.size());
            assertTrue(notices.get(0).contains("left by a run that is gone") && notices.get(0).contains("app-crashed"),
                    notices.get(0));
        }
    }

    @Test
    void aLockFromAnotherHostIsLiveWhileItsHeartbeatIsFreshAndGoneOnceItIsStale() throws IOException {
        Path lock = writeLock("some-other-host", 4242, "app-elsewhere");
        assertThrows(ParameterException.class, () -> OutputLock.acquire(dir.toString(), conf, "app-new", notices::add));
        Files.setLastModifiedTime(lock, java.nio.file.attribute.FileTime.from(
                Instant.now().minus(OutputLock.STALE_AFTER).minus(Duration.ofSeconds(5))));
        try (OutputLock taken = OutputLock.acquire(dir.toString(), conf, "app-new", notices::add)) {
            assertEquals(1, notices.size(), notices.toString());
        }
    }

    @Test
    void anUnreadableLockIsTakenOver() throws IOException {
        Files.writeString(dir.resolve(OutputLock.FILE), "{\"host\": ");
        try (OutputLock lock = OutputLock.acquire(dir.toString(), conf, "app-new", notices::add)) {
            assertEquals(1, notices.size(), notices.toString());
        }
    }

    private Path writeLock(String host, long pid, String application) throws IOException {
        Path lock = dir.resolve(OutputLock.FILE);
        Files.writeString(lock, "{\"host\":\"" + host + "\",\"pid\":" + pid + ",\"process_start\":\"\",\"application\":\""
                + application + "\",\"started\":\"" + Instant.now() + "\",\"token\":\"t\"}");
        return lock;
    }
}
