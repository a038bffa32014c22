package dptrain.exchange;

import java.io.Serializable;

/**
 * Where the driver's round exchange listens, and the secret a task must present to it. Travels to the
 * executors in the task closure; the token keeps other processes that reach the port from joining.
 *
 * @param host  the driver's host name or address, as executors reach it
 * @param port  the exchange's TCP port
 * @param token a random value fixed for one exchange
 */
public record ExchangeAddress(String host, int port, long token) implements Serializable {
    @Override
    public String toString() {
        return host + ":" + port; // never the token
    }
}
