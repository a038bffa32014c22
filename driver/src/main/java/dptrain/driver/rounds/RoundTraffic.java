package dptrain.driver.rounds;

/**
 * Bytes of messages one round moved over the network, where the transport counts them (the
 * replicas averaging among themselves, {@link PeerRounds}): sent and received by the driver and by
 * partition 0's replica.
 */
public record RoundTraffic(long driverSent, long driverReceived, long replicaSent, long replicaReceived) {
}
