package dptrain.spec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

/**
 * A learning-rate schedule in the spec, in Keras's terms, as a DL4J {@link ISchedule}:
 * <ul>
 *   <li>{@code {exponential_decay: {initial_learning_rate, decay_steps, decay_rate, staircase}}}:
 *       Keras's {@code ExponentialDecay}, {@code lr = initial · decay_rate^(step / decay_steps)}, with
 *       {@code staircase: true} rounding the exponent down; steps are optimizer steps per replica;</li>
 *   <li>{@code {step_decay: {initial_learning_rate, decay_rate, every_epochs}}}:
 *       {@code lr = initial · decay_rate^floor(epoch / every_epochs)}, epochs counted from 0.</li>
 * </ul>
 *
 * @param initial   the learning rate at step 0
 * @param schedule  DL4J's schedule
 * @param settings  the schedule in the spec's terms, for provenance
 */
record LearningRateSchedule(double initial, ISchedule schedule, Map<String, Object> settings) {
    private static final String EXPECTED = "a learning rate > 0, or a schedule: {exponential_decay: {decay_steps: 1000, "
            + "decay_rate: 0.9}} or {step_decay: {decay_rate: 0.5, every_epochs: 2}}";

    static LearningRateSchedule parse(SpecNode node, double defaultInitial) {
        String kind = node.singleKeyOrName(EXPECTED);
        node.knownName(kind, List.of("exponential_decay", "step_decay"), "learning rate schedule");
        SpecNode args = node.singleKeyValue();
        args.requireObjectOrAbsent("a mapping of " + kind + " settings");
        args.allowOnly(kind.equals("exponential_decay")
                ? List.of("initial_learning_rate", "decay_steps", "decay_rate", "staircase")
                : List.of("initial_learning_rate", "decay_rate", "every_epochs"));
        double initial = args.get("initial_learning_rate").number(defaultInitial, v -> v > 0, "a number > 0");
        double rate = args.get("decay_rate").number(v -> v > 0, "a number > 0");
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("type", kind);
        settings.put("initial_learning_rate", initial);
        settings.put("decay_rate", rate);
        if (kind.equals("exponential_decay")) {
            int steps = args.get("decay_steps").wholeNumber(1);
            boolean staircase = args.get("staircase").bool(false);
            settings.put("decay_steps", steps);
            settings.put("staircase", staircase);
            ISchedule schedule = staircase ? new StepSchedule(ScheduleType.ITERATION, initial, rate, steps)
                    : new ExponentialSchedule(ScheduleType.ITERATION, initial, Math.pow(rate, 1.0 / steps));
            return new LearningRateSchedule(initial, schedule, settings);
        }
        int everyEpochs = args.get("every_epochs").wholeNumber(1);
        settings.put("every_epochs", everyEpochs);
        return new LearningRateSchedule(initial, new StepSchedule(ScheduleType.EPOCH, initial, rate, everyEpochs),
                settings);
    }

    Map<String, Object> describe() {
        return settings;
    }
}
