package dptrain.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.security.AccessControlException;
import org.apache.hadoop.security.UserGroupInformation;

/**
 * An in-process HDFS (MiniDFSCluster) that checks permissions for this process's user too: its NameNode
 * runs as another user, {@value #SUPERUSER}, HDFS's only superuser, so a file of that user's with mode 000
 * cannot be read by this process even when it runs as root, which reads any local file whatever its mode.
 */
public final class PermissionedHdfs implements AutoCloseable {
    /** The HDFS superuser, who owns what {@link #lockedFile} writes. */
    public static final String SUPERUSER = "dptrain-hdfs-admin";

    private final MiniDFSCluster cluster;
    private final UserGroupInformation superuser;
    private final Configuration conf;

    private PermissionedHdfs(MiniDFSCluster cluster, UserGroupInformation superuser, Configuration conf) {
        this.cluster = cluster;
        this.superuser = superuser;
        this.conf = conf;
    }

    /** Starts a NameNode and one DataNode as {@value #SUPERUSER}, their files under {@code baseDir}. */
    public static PermissionedHdfs start(Path baseDir) throws IOException {
        Configuration conf = new Configuration();
        conf.setBoolean("dfs.permissions.enabled", true);
        conf.setInt("dfs.replication", 1);
        UserGroupInformation superuser = UserGroupInformation.createRemoteUser(SUPERUSER);
        if (UserGroupInformation.getCurrentUser().getShortUserName().equals(SUPERUSER)) {
            throw new IllegalStateException("this process runs as " + SUPERUSER + ", the test HDFS's superuser");
        }
        // The NameNode's superuser is the user that creates it.
        MiniDFSCluster cluster = as(superuser, () -> {
            MiniDFSCluster c = new MiniDFSCluster.Builder(conf, baseDir.toAbsolutePath().toFile()).numDataNodes(1).build();
            c.waitActive();
            return c;
        });
        return new PermissionedHdfs(cluster, superuser, conf);
    }

    /**
     * Writes {@code content} to {@code absolutePath} as the superuser, in a folder anyone may list, with mode
     * 000, and checks that this process indeed cannot read it.
     *
     * @return the file's {@code hdfs://} URI
     */
    public String lockedFile(String absolutePath, String content) throws IOException {
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(uri() + absolutePath);
        as(superuser, () -> {
            try (FileSystem fs = FileSystem.newInstance(file.toUri(), conf)) {
                fs.mkdirs(file.getParent(), new FsPermission((short) 0755));
                try (OutputStream out = fs.create(file, false)) {
                    out.write(content.getBytes(StandardCharsets.UTF_8));
                }
                fs.setPermission(file, new FsPermission((short) 0));
            }
            return null;
        });
        try (FileSystem fs = FileSystem.newInstance(file.toUri(), conf)) {
            fs.open(file).close();
            throw new IllegalStateException(UserGroupInformation.getCurrentUser() + " can read " + file
                    + " despite mode 000: HDFS does not check its permissions");
        } catch (AccessControlException expected) {
            return file.toString();
        }
    }

    /** {@code hdfs://HOST:PORT}, the NameNode's URI. */
    public String uri() {
        return cluster.getURI().toString();
    }

    @Override
    public void close() {
        cluster.shutdown(true);
    }

    private static <T> T as(UserGroupInformation user, PrivilegedExceptionAction<T> action) throws IOException {
        try {
            return user.doAs(action);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException(e));
        }
    }
}
