package dptrain.driver.rounds;

/**
 * Bytes of messages one round moved over the network, where the transport counts them (the
 * replicas averaging among themselves): sent and received by the driver, and by partition 0's
 * replica (every replica moves about as much).
 */
public record RoundTraffic(long driverSent, long driverReceived, long replicaSent, long replicaReceived) {
}
