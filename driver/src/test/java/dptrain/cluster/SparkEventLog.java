package dptrain.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Reads Spark's event logs (rolling, uncompressed: a folder per application of events_N_<app> files). */
final class SparkEventLog {
    private SparkEventLog() {
    }

    /**
     * The "Task Info" of every successful task of type {@code taskType} ({@code ShuffleMapTask} or
     * {@code ResultTask}) of the jobs whose description starts with {@code prefix}.
     */
    static List<JsonNode> successfulTasks(Path events, String prefix, String taskType) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> tasks = new ArrayList<>();
        Set<Integer> stages = new HashSet<>();
        try (Stream<Path> logs = Files.walk(events)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().startsWith("events_")).sorted().toList()) {
                for (String line : Files.readAllLines(log)) {
                    JsonNode event = json.readTree(line);
                    String type = event.path("Event").asText();
                    if ("SparkListenerJobStart".equals(type)
                            && event.path("Properties").path("spark.job.description").asText().startsWith(prefix)) {
                        event.path("Stage IDs").forEach(id -> stages.add(id.asInt()));
                    } else if ("SparkListenerTaskEnd".equals(type) && stages.contains(event.path("Stage ID").asInt())
                            && taskType.equals(event.path("Task Type").asText())
                            && "Success".equals(event.path("Task End Reason").path("Reason").asText())) {
                        tasks.add(event.path("Task Info"));
                    }
                }
            }
        }
        return tasks;
    }
}
