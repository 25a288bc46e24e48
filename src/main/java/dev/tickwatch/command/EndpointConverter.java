package dev.tickwatch.command;

import dev.tickwatch.net.Endpoint;
import picocli.CommandLine;

/** {@code --qmp unix:/path} and {@code --gdb tcp:host:port}, parsed as usage errors when wrong. */
public final class EndpointConverter implements CommandLine.ITypeConverter<Endpoint> {
    @Override
    public Endpoint convert(String value) {
        try {
            return Endpoint.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
