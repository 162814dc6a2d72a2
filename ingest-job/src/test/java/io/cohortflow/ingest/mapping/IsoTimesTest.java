package io.cohortflow.ingest.mapping;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The hand-read UTC form gives what the JDK's parsers give, and everything else still goes to them. */
class IsoTimesTest {
    @Test
    void theUtcFormReadsAsTheJdkReadsIt() {
        SplittableRandom random = new SplittableRandom(11);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            // from year 0000 to 9999, every length of fraction from none to nine digits
            Instant instant = Instant.ofEpochSecond(random.nextLong(-62_167_219_200L, 253_402_300_799L),
                    random.nextInt(1_000_000_000));
            String text = instant.toString(); // 0, 3, 6 or 9 digits of fraction
            int dot = text.indexOf('.');
            if (dot > 0 && random.nextBoolean()) {
                text = text.substring(0, dot + 1 + random.nextInt(1, text.length() - dot - 1)) + "Z";
            }
            texts.add(text);
        }
        texts.addAll(List.of("1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.5Z",
                "2024-02-29T12:00:00.1Z", "2026-03-02T10:15:30.123Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"));

        for (String text : texts) {
            assertThat(IsoTimes.utcMillis(text)).as(text).isNotEqualTo(Long.MIN_VALUE)
                    .isEqualTo(Instant.parse(text).toEpochMilli());
        }
    }

    /** An offset, lower case, a long year, a leap second, 24:00, a dot with no digits: the JDK reads them its way. */
    @Test
    void otherFormsGoToTheJdksParsers() {
        for (String text : List.of("2026-03-02T10:15:30+02:00", "2026-03-02T10:15:30.5-05:30", "2026-03-02t10:15:30z",
                "+12026-03-02T10:15:30Z", "2016-12-31T23:59:60Z", "2026-03-02T24:00:00Z", "2026-03-02T10:15:30.Z")) {
            assertThat(IsoTimes.utcMillis(text)).as(text).isEqualTo(Long.MIN_VALUE);
            assertThat(IsoTimes.epochMillis(text)).as(text).isEqualTo(jdk(text));
        }
    }

    @Test
    void whatNoParserReadsIsRefusedAsBefore() {
        for (String text : List.of("2026-02-30T10:15:30Z", "2026-02-29T10:15:30Z", "2026-13-02T10:15:30Z",
                "2026-03-02T10:60:30Z", "2026-03-02T10:15:30.1234567890Z",
                "2026-03-02 10:15:30Z", "2026-03-02T10:15:3xZ", "２026-03-02T10:15:30Z", "2026-03-02T10:15:30",
                "yesterday", "2026-03-02T10:15:30.12a4Z")) {
            assertThat(IsoTimes.utcMillis(text)).as(text).isEqualTo(Long.MIN_VALUE);
            assertThatThrownBy(() -> IsoTimes.epochMillis(text)).as(text).isInstanceOf(DateTimeParseException.class);
            assertThatThrownBy(() -> jdk(text)).as(text).isInstanceOf(DateTimeParseException.class);
        }
    }

    private static long jdk(String text) {
        try {
            return Instant.parse(text).toEpochMilli();
        } catch (DateTimeParseException e) {
            return OffsetDateTime.parse(text).toInstant().toEpochMilli();
        }
    }
}
