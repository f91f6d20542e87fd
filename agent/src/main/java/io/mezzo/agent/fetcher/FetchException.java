package io.mezzo.agent.fetcher;

/**
 * A URI could not be fetched into a sandbox. Its message names the URI and the cause, in one sentence
 * fit for a TASK_FAILED update ({@code REASON_FETCHER_FAILED}).
 *
 * <p>Thrown on a worker thread by {@link Fetcher#fetch}.
 */
public final class FetchException extends Exception {

    private static final long serialVersionUID = 1L;

    /** {@code uri} failed because of {@code cause}. */
    FetchException(String uri, String cause, Throwable error) {
        super("Failed to fetch '" + uri + "': " + cause, error);
    }
}
