package io.cohortflow.core.privacy;

import io.cohortflow.core.privacy.PrivacyStatus.Stage;
import io.cohortflow.core.privacy.PrivacyStatus.State;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a privacy request stands, stage by stage, rolled up from the reports on privacy.status.
 *
 * <ul>
 *   <li>{@code INGEST} (requests that suppress): done when every subtask of each operator of
 *       {@link PrivacyStatus#INGEST_CHECKS} has taken the request in (its report is written in the transaction of the
 *       checkpoint that holds the request in its state, so it is visible once that checkpoint is committed);</li>
 *   <li>{@code SEGMENTATION} (requests that delete): done when each id of the request has been erased;</li>
 *   <li>{@code HISTORY} (requests that delete): done when the history erasure has rewritten the files;</li>
 *   <li>{@code MODELS}: done when a training that excluded the ids has published a model version.</li>
 * </ul>
 *
 * @param request the request
 * @param stages  one line per stage, in the order of {@link Stage}
 */
public record RegulationStatus(PrivacyRequest request, List<StageStatus> stages) {
    public enum Progress { NOT_APPLICABLE, PENDING, RUNNING, DONE }

    /**
     * @param since  when the first report of the stage came (epoch ms), or null
     * @param done   when the stage was done (its last part's report), or null
     * @param parts  parts done, of {@code of}
     * @param detail the reports' details, joined
     */
    public record StageStatus(Stage stage, Progress progress, Long since, Long done, int parts, int of, String detail) {
    }

    /** Whether every stage that applies is done. */
    public boolean done() {
        return stages.stream().allMatch(s -> s.progress() == Progress.DONE || s.progress() == Progress.NOT_APPLICABLE);
    }

    public StageStatus stage(Stage stage) {
        return stages.stream().filter(s -> s.stage() == stage).findFirst().orElseThrow();
    }

    /** The request's status from its reports (reports of other requests are ignored). */
    public static RegulationStatus of(PrivacyRequest request, Collection<PrivacyStatus> reports) {
        Map<Stage, List<PrivacyStatus>> byStage = new HashMap<>();
        for (PrivacyStatus r : reports) {
            if (r.requestId().equals(request.requestId())) {
                byStage.computeIfAbsent(r.stage(), s -> new ArrayList<>()).add(r);
            }
        }
        List<StageStatus> stages = new ArrayList<>();
        for (Stage stage : Stage.values()) {
            List<PrivacyStatus> mine = byStage.getOrDefault(stage, List.of());
            boolean applies = switch (stage) {
                case INGEST -> request.type().suppresses();
                case SEGMENTATION, HISTORY -> request.type().deletes();
                case MODELS -> true;
            };
            if (!applies) {
                stages.add(new StageStatus(stage, Progress.NOT_APPLICABLE, null, null, 0, 0, ""));
                continue;
            }
            // What must be done: each operator's subtasks, each id, or the one run.
            Set<String> wanted = stage == Stage.SEGMENTATION ? new HashSet<>(request.ids().stream()
                    .map(id -> PrivacyStatus.idHash(request.requestId(), id)).toList()) : null;
            Map<String, Integer> expected = new HashMap<>();
            switch (stage) {
                case INGEST -> {
                    PrivacyStatus.INGEST_CHECKS.forEach(g -> expected.put(g, 1));
                    mine.forEach(r -> expected.merge(r.group(), r.parts(), Math::max));
                }
                case SEGMENTATION -> expected.put("ids", wanted.size()); // an address and its key form are one
                case MODELS -> expected.put("versions", 1); // any promoted version trained without them
                default -> expected.put("run", 1);
            }
            Set<String> doneParts = new HashSet<>();
            Long since = null;
            long last = 0;
            List<String> details = new ArrayList<>();
            long firstVersion = Long.MAX_VALUE;
            for (PrivacyStatus r : mine) {
                since = since == null ? r.at() : Math.min(since, r.at());
                if (r.state() == State.DONE && expected.containsKey(r.group())
                        && (wanted == null || wanted.contains(r.part()))) {
                    doneParts.add(r.group() + "/" + (stage == Stage.MODELS ? "" : r.part()));
                    last = Math.max(last, r.at());
                    firstVersion = Math.min(firstVersion, r.at());
                }
                if (!r.detail().isEmpty() && !details.contains(r.detail())) {
                    details.add(r.detail());
                }
            }
            int of = expected.values().stream().mapToInt(Integer::intValue).sum();
            Progress progress = doneParts.size() >= of ? Progress.DONE : since == null ? Progress.PENDING : Progress.RUNNING;
            if (stage == Stage.MODELS) {
                last = firstVersion; // done when the first version without them was promoted
            }
            stages.add(new StageStatus(stage, progress, since, progress == Progress.DONE ? last : null,
                    Math.min(doneParts.size(), of), of, String.join("; ", details)));
        }
        return new RegulationStatus(request, stages);
    }
}
