package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.provider.Arguments;

/** The table-driven error tests' cases, and what every user-caused failure's message must be. */
final class ErrorCases {
    private ErrorCases() {
    }

    /** A case: {@code what} it is, the exit code, the command's arguments, and words the message must contain. */
    static Arguments bad(String what, int exitCode, List<String> args, String... mentions) {
        return Arguments.of(what, exitCode, args, List.of(mentions));
    }

    /**
     * The run failed with {@code exitCode} and one sentence on stderr that names every one of {@code
     * mentions}, without a stack trace or internal class names.
     */
    static void assertClearError(String what, int exitCode, List<String> mentions, TrainCommandTest.Run run) {
        assertEquals(exitCode, run.code(), what + ": " + run.err());
        for (String mention : mentions) {
            assertTrue(run.err().contains(mention), what + ": the message should mention '" + mention + "': " + run.err());
        }
        assertTrue(run.err().startsWith("dptrain: error: "), what + ": " + run.err());
        assertFalse(run.err().contains("\tat "), what + ": no stack trace without --verbose: " + run.err());
        assertFalse(run.err().matches("(?s).*[a-z]+\\.[a-z]+\\.[A-Za-z]+(Exception|Error).*"),
                what + ": no internal class names: " + run.err());
    }
}
