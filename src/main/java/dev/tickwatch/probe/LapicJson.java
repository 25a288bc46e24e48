package dev.tickwatch.probe;

import com.fasterxml.jackson.annotation.JacksonAnnotationsInside;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.util.StdConverter;
import dev.tickwatch.util.Hex;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A sample's LAPIC state as JSON ({@code "lapic": {"lvtt": "0xec", "mode": "one-shot", ...}}),
 * kept apart from the LAPIC type itself so that type can change without touching the file shape:
 * the only place that knows both.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record LapicJson(@Hex long lvtt, String mode, boolean masked, int vector, int divide, long initialCount,
        long currentCount) {

    /** Put on a LAPIC state component: it is written and read through {@link LapicJson}. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.ANNOTATION_TYPE})
    @JacksonAnnotationsInside
    @JsonSerialize(converter = Out.class)
    @JsonDeserialize(converter = In.class)
    @interface Mapped {
    }

    static final class Out extends StdConverter<LapicTimer, LapicJson> {
        @Override
        public LapicJson convert(LapicTimer l) {
            return new LapicJson(l.lvtt(), l.timerMode(), l.masked(), l.vector(), l.divide(), l.initialCount(),
                    l.currentCount());
        }
    }

    static final class In extends StdConverter<LapicJson, LapicTimer> {
        @Override
        public LapicTimer convert(LapicJson l) {
            return new LapicTimer(l.lvtt(), l.mode(), l.masked(), l.vector(), l.divide(), l.initialCount(),
                    l.currentCount());
        }
    }
}
