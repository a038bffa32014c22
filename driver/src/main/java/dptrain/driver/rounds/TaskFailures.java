package dptrain.driver.rounds;

import java.util.Optional;

/** Reading a task's failure out of the job failure Spark hands back, where only its text survives. */
final class TaskFailures {
    private TaskFailures() {
    }

    /**
     * The line of a task's failure message that starts with {@code marker} (e.g. "cannot reach ... at
     * HOST:PORT: reason"), searching {@code failure} and its causes; empty when none has it.
     */
    static Optional<String> lineFrom(Throwable failure, String marker) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage());
            int at = message.indexOf(marker);
            if (at >= 0) {
                return Optional.of(message.substring(at).lines().findFirst().orElse(""));
            }
        }
        return Optional.empty();
    }
}
