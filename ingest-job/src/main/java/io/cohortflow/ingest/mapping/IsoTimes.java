package io.cohortflow.ingest.mapping;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Epoch milliseconds of an ISO-8601 time, as {@link Instant#parse} (or, for what it refuses, {@link OffsetDateTime#parse})
 * gives them. The form SDKs send, {@code 2026-03-02T10:15:30.123Z} (UTC, a four-digit year, up to nine digits of
 * fraction), is read by hand: {@code Instant.parse} of it was 6% of the ingest job's CPU (JFR, issue "Speed to lead",
 * P5), three times per call. Anything else (an offset, a leap second, a date that does not exist, a year of other
 * than four digits) goes to the JDK's parsers, which read it or refuse it as before.
 */
final class IsoTimes {
    private IsoTimes() {
    }

    /** @throws DateTimeParseException when neither parser reads the text */
    static long epochMillis(String text) {
        long utc = utcMillis(text);
        if (utc != Long.MIN_VALUE) {
            return utc;
        }
        try {
            return Instant.parse(text).toEpochMilli();
        } catch (DateTimeParseException e) {
            return OffsetDateTime.parse(text).toInstant().toEpochMilli();
        }
    }

    /** {@code yyyy-MM-ddTHH:mm:ss[.f…]Z} read by hand, or {@code Long.MIN_VALUE} when the text is not that form. */
    static long utcMillis(String s) {
        int n = s.length();
        if (n < 20 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(n - 1) != 'Z') {
            return Long.MIN_VALUE;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if ((year | month | day | hour | minute | second) < 0 || hour > 23 || minute > 59 || second > 59) {
            return Long.MIN_VALUE;
        }
        int millis = 0;
        if (n > 20) {
            int fraction = n - 21; // the digits between the dot and the Z
            if (s.charAt(19) != '.' || fraction < 1 || fraction > 9) {
                return Long.MIN_VALUE;
            }
            for (int i = 0; i < fraction; i++) {
                int d = s.charAt(20 + i) - '0';
                if (d < 0 || d > 9) {
                    return Long.MIN_VALUE;
                }
                if (i < 3) {
                    millis = millis * 10 + d;
                }
            }
            for (int i = fraction; i < 3; i++) {
                millis *= 10;
            }
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return Long.MIN_VALUE; // February 30th and the like: the JDK's parser says why
        }
        return ((epochDay * 24 + hour) * 60 + minute) * 60_000L + second * 1_000L + millis;
    }

    /** The non-negative number of {@code count} ASCII digits at {@code from}, or -1 when one is not a digit. */
    private static int digits(String s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            int d = s.charAt(i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value;
    }
}
