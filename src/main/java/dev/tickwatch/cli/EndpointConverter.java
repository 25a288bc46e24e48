package dev.tickwatch.cli;

import dev.tickwatch.net.Endpoint;
import picocli.CommandLine;

/** {@code --qmp unix:/path} and {@code --gdb tcp:host:port}, parsed as usage errors when wrong. */
final class EndpointConverter implements CommandLine.ITypeConverter<Endpoint> {
    @Override
    public Endpoint convert(String value) {
        try {
            return Endpoint.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
