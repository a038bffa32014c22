package dptrain.exchange;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Optional;

/**
 * A training task's connection to the driver's round exchange. Not thread-safe: the task's own
 * thread alternates {@link #next} and {@link #send}.
 */
public final class RoundClient implements Closeable {
    /** How a task's failure to connect begins, so the driver can tell it from other task failures. */
    public static final String UNREACHABLE = "cannot reach the driver's round exchange";

    private static final int CONNECT_TIMEOUT_MILLIS = 60_000;
    /**
     * As large as the state's chunks (see TrainingState), so they bypass the buffer instead of being
     * copied through it.
     */
    private static final int BUFFER_BYTES = 1 << 16;
    private static final int POLL_MILLIS = 500;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final ExchangeAddress address;
    private final int partition;

    private RoundClient(Socket socket, ExchangeAddress address, int partition) throws IOException {
        this.socket = socket;
        this.address = address;
        this.partition = partition;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), BUFFER_BYTES));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), BUFFER_BYTES));
    }

    /** Connects to the exchange and introduces this task as {@code partition} of stage attempt {@code stageAttempt}. */
    public static RoundClient connect(ExchangeAddress address, int partition, int stageAttempt) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setKeepAlive(true);
            socket.connect(new InetSocketAddress(address.host(), address.port()), CONNECT_TIMEOUT_MILLIS);
            RoundClient client = new RoundClient(socket, address, partition);
            RoundProtocol.writeHello(client.out, new RoundProtocol.Hello(address.token(), partition, stageAttempt));
            return client;
        } catch (IOException e) {
            socket.close();
            throw new IOException(UNREACHABLE + " at " + address + " (set "
                    + "spark.dptrain.roundExchange=jobs if executors cannot open connections to the driver): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Waits for the driver's next assignment; empty when the epoch is done. The round's starting state
     * follows: read it with {@link #receiveState} before anything else. While waiting it calls
     * {@code stillWanted} every {@value #POLL_MILLIS} ms, which throws to give up (a killed task: a
     * blocked socket read does not notice a thread interrupt).
     */
    public Optional<RoundAssignment> next(Runnable stillWanted) throws IOException {
        try {
            awaitMessage(stillWanted);
            return RoundProtocol.readAssignment(in);
        } catch (IOException e) {
            throw new IOException("lost the driver's round exchange at " + address + ": " + e, e);
        }
    }

    /** Waits until a message's first byte has arrived; the message itself is then read without a timeout. */
    private void awaitMessage(Runnable stillWanted) throws IOException {
        socket.setSoTimeout(POLL_MILLIS);
        try {
            while (true) {
                in.mark(1);
                try {
                    if (in.read() < 0) {
                        throw new EOFException("the driver closed the connection");
                    }
                    in.reset();
                    return;
                } catch (SocketTimeoutException e) {
                    // Nothing consumed: the stream stays whole. The driver is averaging or checkpointing.
                    stillWanted.run();
                }
            }
        } finally {
            socket.setSoTimeout(0);
        }
    }

    /** Reads the starting state that follows an assignment, e.g. {@code ReplicaTrainer::receiveState}. */
    @FunctionalInterface
    public interface StateReader {
        void read(DataInputStream in) throws IOException;
    }

    /**
     * Writes a replica's result as {@link dptrain.replica.ReplicaResult#writeTo} does, e.g. {@code
     * HeldResult::writeTo}.
     */
    @FunctionalInterface
    public interface ResultWriter {
        void write(DataOutputStream out, int partition) throws IOException;
    }

    /** Reads the starting state of the assignment just read, with {@code reader}. */
    public void receiveState(StateReader reader) throws IOException {
        try {
            reader.read(in);
        } catch (IOException e) {
            throw new IOException("lost the driver's round exchange at " + address + " while reading a state: " + e, e);
        }
    }

    /** Sends this partition's result of round {@code sequence}, written by {@code result}. */
    public void send(int sequence, ResultWriter result) throws IOException {
        RoundProtocol.writeResult(out, sequence, partition, result);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
