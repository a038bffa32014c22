package dptrain.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.TransientApiMetadata;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.PageSet;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.options.ListContainerOptions;
import org.jclouds.blobstore.options.PutOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;

/**
 * An S3 API server in this JVM: S3Proxy over an in-memory store, on a free port of 127.0.0.1, with one
 * bucket of its own and one key pair. {@link #settings} are the {@code --conf spark.hadoop.fs.s3a.*}
 * flags a user gives dptrain to reach such a server through hadoop-aws; {@link #hadoop} is the same
 * for the test's own reads and writes. The server records every upload's key ({@link #uploads}),
 * and {@link #holdUpload} stops one upload partway, so that a test can kill the writer mid-write.
 */
public final class S3Server implements AutoCloseable {
    public static final String ACCESS_KEY = "dptrain-access";
    public static final String SECRET_KEY = "dptrain-secret-for-tests";

    private final BlobStoreContext context;
    private final S3Proxy proxy;
    private final RecordingBlobStore store;
    /** Unique per server: Hadoop caches one s3a client per bucket, whatever its endpoint. */
    private final String bucket;

    private S3Server(BlobStoreContext context, S3Proxy proxy, RecordingBlobStore store, String bucket) {
        this.context = context;
        this.proxy = proxy;
        this.store = store;
        this.bucket = bucket;
    }

    /** Starts a server with an empty bucket. */
    public static S3Server start() throws Exception {
        // jclouds' in-memory store. It answers for folders as S3 does, where S3Proxy's filesystem stores take
        // a folder's marker (key "dir/") for an object named "dir" as well.
        BlobStoreContext context = ContextBuilder.newBuilder(new TransientApiMetadata())
                .credentials(ACCESS_KEY, SECRET_KEY).build(BlobStoreContext.class);
        RecordingBlobStore store = new RecordingBlobStore(context.getBlobStore());
        String bucket = "dptrain-" + UUID.randomUUID().toString().substring(0, 8);
        store.createContainerInLocation(null, bucket);
        S3Proxy proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
        proxy.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                proxy.stop();
                context.close();
                throw new IllegalStateException("S3Proxy did not start within 30 s: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        return new S3Server(context, proxy, store, bucket);
    }

    public String bucket() {
        return bucket;
    }

    /** {@code s3a://BUCKET/key}. */
    public String uri(String key) {
        return "s3a://" + bucket + "/" + key;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + proxy.getPort();
    }

    /** The s3a settings that reach this server. */
    public Map<String, String> s3aSettings() {
        return s3aSettings(endpoint(), ACCESS_KEY, SECRET_KEY);
    }

    /**
     * The s3a settings for an S3-compatible store at {@code endpoint} with a key pair: what DEPLOY.md
     * tells users to set, without the {@code spark.hadoop.} prefix.
     */
    public static Map<String, String> s3aSettings(String endpoint, String accessKey, String secretKey) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("fs.s3a.endpoint", endpoint);
        // The SDK signs for a region, and an endpoint of one's own has no region to look up.
        settings.put("fs.s3a.endpoint.region", "us-east-1");
        // http://HOST:PORT/BUCKET/key: no host name per bucket on loopback.
        settings.put("fs.s3a.path.style.access", "true");
        settings.put("fs.s3a.connection.ssl.enabled", "false");
        settings.put("fs.s3a.access.key", accessKey);
        settings.put("fs.s3a.secret.key", secretKey);
        return settings;
    }

    /** {@link #s3aSettings} as dptrain's {@code --conf spark.hadoop.K=V} flags. */
    public List<String> settings() {
        return flags(s3aSettings());
    }

    /** {@code settings} as {@code --conf spark.hadoop.K=V} flags. */
    public static List<String> flags(Map<String, String> settings) {
        List<String> flags = new ArrayList<>();
        settings.forEach((key, value) -> flags.addAll(List.of("--conf", "spark.hadoop." + key + "=" + value)));
        return flags;
    }

    /** A Hadoop configuration that reaches this server. */
    public Configuration hadoop() {
        Configuration conf = new Configuration();
        s3aSettings().forEach(conf::set);
        return conf;
    }

    /** This server's bucket as a Hadoop filesystem (Hadoop's cached client, the one dptrain's runs use too). */
    public FileSystem fileSystem() throws IOException {
        return FileSystem.get(URI.create("s3a://" + bucket + "/"), hadoop());
    }

    /** The keys of every upload the server has received so far, in order (complete or not). */
    public List<String> uploads() {
        return List.copyOf(store.uploads);
    }

    /**
     * The next upload of an object whose key {@code key} accepts stops after its first {@code bytes}
     * bytes: the server reads no further until {@link Hold#release}, and then drops the upload.
     */
    public Hold holdUpload(Predicate<String> key, int bytes) {
        Hold hold = new Hold(key, bytes);
        store.hold = hold;
        return hold;
    }

    /** Object keys in the bucket under {@code prefix}, sorted; folders' markers end with {@code /}. */
    public List<String> keys(String prefix) {
        List<String> keys = new ArrayList<>();
        ListContainerOptions options = ListContainerOptions.Builder.prefix(prefix).recursive();
        String marker = null;
        do {
            PageSet<? extends StorageMetadata> page = store.list(bucket,
                    marker == null ? options : options.clone().afterMarker(marker));
            page.forEach(meta -> keys.add(meta.getName()));
            marker = page.getNextMarker();
        } while (marker != null);
        keys.sort(null);
        return keys;
    }

    /** Stops the server, and closes Hadoop's cached client of its bucket. */
    @Override
    public void close() {
        Hold hold = store.hold;
        if (hold != null) {
            hold.release();
        }
        try {
            FileSystem.get(new URI("s3a://" + bucket + "/"), hadoop()).close();
        } catch (IOException | URISyntaxException e) {
            // the client was never made, or is already gone
        }
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("S3Proxy did not stop", e);
        } finally {
            context.close();
        }
    }

    /** An upload stopped partway; see {@link #holdUpload}. */
    public static final class Hold {
        private final Predicate<String> key;
        private final int bytes;
        private final CountDownLatch stopped = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private volatile String name;

        private Hold(Predicate<String> key, int bytes) {
            this.key = key;
            this.bytes = bytes;
        }

        /** Waits until an upload has stopped partway and returns its key; null if none did within {@code seconds}. */
        public String awaitStopped(long seconds) throws InterruptedException {
            return stopped.await(seconds, TimeUnit.SECONDS) ? name : null;
        }

        /** Lets the server go on: it reads what the client still sends, then drops the upload. */
        public void release() {
            released.countDown();
        }
    }

    /** The bucket's store: records uploads and holds back the one a {@link Hold} names. */
    private static final class RecordingBlobStore extends ForwardingBlobStore {
        final List<String> uploads = new CopyOnWriteArrayList<>();
        volatile Hold hold;

        RecordingBlobStore(BlobStore delegate) {
            super(delegate);
        }

        @Override
        public String putBlob(String container, Blob blob) {
            return putBlob(container, blob, PutOptions.NONE);
        }

        @Override
        public String putBlob(String container, Blob blob, PutOptions options) {
            String name = blob.getMetadata().getName();
            uploads.add(name);
            Hold h = hold;
            if (h != null && h.key.test(name)) {
                hold = null;
                holdBack(h, name, blob);
            }
            return super.putBlob(container, blob, options);
        }

        /** Reads the upload's first bytes, waits for the test, drains what is left and fails: nothing is stored. */
        private static void holdBack(Hold h, String name, Blob blob) {
            h.name = name;
            try (InputStream in = blob.getPayload().openStream()) {
                in.readNBytes(h.bytes);
                h.stopped.countDown();
                if (!h.released.await(5, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the test never released the upload of " + name);
                }
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException e) {
                // the client went away mid-upload, as the test meant it to
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                h.stopped.countDown();
            }
            throw new IllegalStateException(String.format(Locale.ROOT, "upload of %s held back by the test", name));
        }
    }
}
