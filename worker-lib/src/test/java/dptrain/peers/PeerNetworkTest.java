package dptrain.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.replica.TrainingState;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.apache.spark.SecurityManager;
import org.apache.spark.SparkConf;
import org.apache.spark.internal.config.package$;
import org.junit.jupiter.api.Test;
import scala.Option;

/**
 * The replicas' exchange is as secure as the Spark it runs in: with {@code spark.authenticate} an
 * end that does not know the secret cannot deliver anything, with {@code spark.network.crypto.enabled}
 * no float of a state crosses the wire in the clear, and a stranger's bytes (random, half-open,
 * a frame claiming 2^31 bytes) neither crash an end nor stop the next good message.
 */
class PeerNetworkTest {
    private static final String HOST = "127.0.0.1";
    private static final long TOKEN = 42;

    private static PeerNetwork end(String secret, boolean encrypt) {
        return end(secret, encrypt, new SparkConf());
    }

    private static PeerNetwork end(String secret, boolean encrypt, SparkConf conf) {
        conf.set("spark.authenticate", String.valueOf(secret != null))
                .set("spark.network.crypto.enabled", String.valueOf(encrypt));
        if (secret != null) {
            conf.set("spark.authenticate.secret", secret);
        }
        SecurityManager security = new SecurityManager(conf, Option.empty(), package$.MODULE$.AUTH_SECRET_FILE_DRIVER());
        return PeerNetwork.open(conf, security, HOST, TOKEN);
    }

    /** A chunk whose floats are easy to find in captured bytes. */
    private static TrainingState marked() {
        float[] params = new float[4096];
        for (int i = 0; i < params.length; i++) {
            params[i] = 1.0f + i * 1.0e-3f;
        }
        return TrainingState.restore(params, new float[0], 3, 1);
    }

    private static PeerMessage.Chunk chunk(TrainingState values) {
        return new PeerMessage.Chunk(new PeerMessage.Envelope(TOKEN, 0, 7, 1), values);
    }

    private static PeerMessage.Chunk receive(PeerNetwork at) throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        return at.take(PeerMessage.Chunk.class, m -> true, 100, () -> {
            if (System.nanoTime() > deadline) {
                throw new IOException("no message within 10 s");
            }
        });
    }

    @Test
    void anEndWithoutTheSecretCannotDeliverAndTheRightOneCan() throws IOException {
        try (PeerNetwork receiver = end("the-secret", false); PeerNetwork stranger = end("another-secret", false);
                PeerNetwork peer = end("the-secret", false)) {
            IOException refused = assertThrows(IOException.class,
                    () -> stranger.send(HOST, receiver.port(), chunk(marked())));
            assertTrue(refused.getMessage().startsWith(PeerNetwork.UNREACHABLE + HOST + ":" + receiver.port()),
                    refused.getMessage());
            peer.send(HOST, receiver.port(), chunk(marked()));
            assertArrayEquals(marked().copyParameters(), receive(receiver).values().copyParameters());
            assertEquals(0, receiver.bytesReceived() - PeerMessage.encode(chunk(marked())).remaining(),
                    "only the peer's message was taken");
        }
    }

    @Test
    void withEncryptionOnNoFloatOfTheStateCrossesInTheClear() throws Exception {
        byte[] needle = needle(marked());
        try (PeerNetwork receiver = end("s", true); PeerNetwork sender = end("s", true);
                RecordingProxy proxy = new RecordingProxy(receiver.port())) {
            assertTrue(sender.encrypted());
            sender.send(HOST, proxy.port(), chunk(marked()));
            assertArrayEquals(marked().copyParameters(), receive(receiver).values().copyParameters());
            assertTrue(proxy.captured().length > 4 * 4096, "the state crossed the proxy");
            assertFalse(contains(proxy.captured(), needle), "a block of the state's floats in the clear");
        }
        // The same capture without encryption finds them: the search can fail.
        try (PeerNetwork receiver = end("s", false); PeerNetwork sender = end("s", false);
                RecordingProxy proxy = new RecordingProxy(receiver.port())) {
            assertFalse(sender.encrypted());
            sender.send(HOST, proxy.port(), chunk(marked()));
            receive(receiver);
            assertTrue(contains(proxy.captured(), needle), "the unencrypted capture holds the floats");
        }
    }

    @Test
    void strangersBytesNeitherCrashAnEndNorStopTheNextMessage() throws Exception {
        for (String secret : new String[] {null, "s"}) {
            try (PeerNetwork receiver = end(secret, false); PeerNetwork peer = end(secret, false)) {
                Random random = new Random(1);
                // Random bytes, a frame that claims 2^31 - 1 bytes, a well-framed message of random bytes,
                // one with the wrong token, and a connection that opens and sends nothing.
                byte[] noise = new byte[4096];
                random.nextBytes(noise);
                sendRaw(receiver.port(), noise);
                sendRaw(receiver.port(), ByteBuffer.allocate(16).putLong(Integer.MAX_VALUE).putInt(3).array());
                sendRaw(receiver.port(), frame(noise));
                try (PeerNetwork wrongToken = PeerNetwork.open(new SparkConf().set("spark.authenticate",
                        String.valueOf(secret != null)).set("spark.authenticate.secret", secret == null ? "x" : secret),
                        new SecurityManager(new SparkConf().set("spark.authenticate", String.valueOf(secret != null))
                                .set("spark.authenticate.secret", secret == null ? "x" : secret), Option.empty(),
                                package$.MODULE$.AUTH_SECRET_FILE_DRIVER()), HOST, TOKEN + 1)) {
                    wrongToken.send(HOST, receiver.port(), new PeerMessage.Chunk(
                            new PeerMessage.Envelope(TOKEN + 1, 0, 7, 1), marked()));
                }
                try (Socket halfOpen = new Socket(HOST, receiver.port())) {
                    peer.send(HOST, receiver.port(), chunk(marked()));
                    assertArrayEquals(marked().copyParameters(), receive(receiver).values().copyParameters(),
                            "spark.authenticate " + (secret != null));
                }
            }
        }
    }

    @Test
    void withSparksRpcTlsOnNoFloatOfTheStateCrossesInTheClear(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // A self-signed key pair made by the JDK's keytool, as an operator would make one for Spark's RPC TLS.
        java.nio.file.Path keyStore = dir.resolve("rpc.p12");
        Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool")
                .toString(), "-genkeypair", "-alias", "rpc", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1", "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass",
                "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String keytoolSaid = new String(keytool.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), keytoolSaid);
        java.util.function.Supplier<SparkConf> tls = () -> new SparkConf().set("spark.ssl.rpc.enabled", "true")
                .set("spark.ssl.rpc.keyStore", keyStore.toString()).set("spark.ssl.rpc.keyStorePassword", "changeit")
                .set("spark.ssl.rpc.keyPassword", "changeit").set("spark.ssl.rpc.keyStoreType", "PKCS12")
                .set("spark.ssl.rpc.trustStore", keyStore.toString()).set("spark.ssl.rpc.trustStorePassword", "changeit")
                .set("spark.ssl.rpc.trustStoreType", "PKCS12").set("spark.ssl.rpc.openSslEnabled", "false");
        byte[] needle = needle(marked());
        try (PeerNetwork receiver = end("s", false, tls.get()); PeerNetwork sender = end("s", false, tls.get());
                RecordingProxy proxy = new RecordingProxy(receiver.port())) {
            assertTrue(sender.encrypted(), "TLS counts as encrypted");
            sender.send(HOST, proxy.port(), chunk(marked()));
            assertArrayEquals(marked().copyParameters(), receive(receiver).values().copyParameters());
            assertTrue(proxy.captured().length > 4 * 4096, "the state crossed the proxy");
            assertFalse(contains(proxy.captured(), needle), "a block of the state's floats in the clear");
        }
    }

    @Test
    void aConnectionThatSaysNothingIsClosedAfterSparksNetworkTimeout() throws Exception {
        try (PeerNetwork receiver = end("s", false, new SparkConf().set("spark.network.timeout", "2s"));
                Socket silent = new Socket(HOST, receiver.port())) {
            silent.setSoTimeout(15_000);
            long began = System.nanoTime();
            assertEquals(-1, silent.getInputStream().read(), "the end closed the silent connection");
            double seconds = (System.nanoTime() - began) / 1e9;
            assertTrue(seconds >= 1.5 && seconds < 12, "closed after " + seconds + " s, with a 2 s timeout");
        }
    }

    @Test
    void aConnectionThatHasDeliveredStaysOpenHoweverLongItIsQuiet() throws Exception {
        SparkConf shortTimeout = new SparkConf().set("spark.network.timeout", "1s");
        try (PeerNetwork receiver = end("s", false, shortTimeout.clone());
                PeerNetwork sender = end("s", false, shortTimeout.clone())) {
            sender.send(HOST, receiver.port(), chunk(marked()));
            receive(receiver);
            Thread.sleep(4_000);
            assertTrue(sender.connectionOpen(HOST, receiver.port()),
                    "a quiet connection was closed: a message sent as it closed would be lost");
            sender.send(HOST, receiver.port(), chunk(marked()));
            assertArrayEquals(marked().copyParameters(), receive(receiver).values().copyParameters());
        }
    }

    @Test
    void pastTheCapSilentConnectionsAreClosedAtOnceAndPeersDeliverOnceTheyAreGone() throws Exception {
        try (PeerNetwork receiver = end("s", false, new SparkConf().set(ConnectionCap.KEY, "3"));
                PeerNetwork peer = end("s", false)) {
            Socket[] strangers = new Socket[3];
            try {
                for (int i = 0; i < strangers.length; i++) {
                    strangers[i] = new Socket(HOST, receiver.port());
                }
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (receiver.silentConnections() < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(3, receiver.silentConnections());
                try (Socket fourth = new Socket(HOST, receiver.port())) {
                    fourth.setSoTimeout(10_000);
                    assertEquals(-1, fourth.getInputStream().read(), "the connection past the cap was closed");
                }
                assertEquals(3, receiver.silentConnections());
            } finally {
                for (Socket s : strangers) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (receiver.silentConnections() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            peer.send(HOST, receiver.port(), chunk(marked()));
            assertArrayEquals(marked().copyParameters(), receive(receiver).values().copyParameters());
            assertEquals(0, receiver.silentConnections(), "the peer's connection delivered, so it is not silent");
        }
    }

    @Test
    void aCapThatIsNotAPositiveNumberIsRefusedNamingTheSetting() {
        for (String bad : new String[] {"0", "many"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> end("s", false, new SparkConf().set(ConnectionCap.KEY, bad)).close());
            assertEquals(ConnectionCap.KEY + "=" + bad + ": expected a whole number of at least 1", e.getMessage());
        }
    }

    /** A one-way message frame as Spark's transport writes it, around {@code body}. */
    private static byte[] frame(byte[] body) {
        // frame length (8 bytes, itself included), message type 9 (OneWayMessage), body length (4 bytes), body
        ByteBuffer b = ByteBuffer.allocate(8 + 1 + 4 + body.length);
        b.putLong(b.capacity()).put((byte) 9).putInt(body.length).put(body);
        return b.array();
    }

    private static void sendRaw(int port, byte[] bytes) throws IOException {
        try (Socket s = new Socket(HOST, port)) {
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
        }
    }

    /** 64 consecutive floats of the state as they would appear unencrypted (little-endian). */
    private static byte[] needle(TrainingState state) {
        ByteBuffer b = ByteBuffer.allocate(64 * 4).order(ByteOrder.LITTLE_ENDIAN);
        float[] p = state.copyParameters();
        for (int i = 1000; i < 1064; i++) {
            b.putFloat(p[i]);
        }
        return b.array();
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** Forwards one connection to a port on loopback and keeps every byte that goes through. */
    private static final class RecordingProxy implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName(HOST));
        private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

        RecordingProxy(int target) throws IOException {
            Thread accept = new Thread(() -> {
                try {
                    while (true) {
                        Socket in = server.accept();
                        Socket out = new Socket(HOST, target);
                        pump(in.getInputStream(), out.getOutputStream());
                        pump(out.getInputStream(), in.getOutputStream());
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            accept.setDaemon(true);
            accept.start();
        }

        private void pump(InputStream from, OutputStream to) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try {
                    for (int n; (n = from.read(buffer)) > 0;) {
                        synchronized (captured) {
                            captured.write(buffer, 0, n);
                        }
                        to.write(buffer, 0, n);
                        to.flush();
                    }
                } catch (IOException e) {
                    // connection ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        byte[] captured() {
            synchronized (captured) {
                return captured.toByteArray();
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
