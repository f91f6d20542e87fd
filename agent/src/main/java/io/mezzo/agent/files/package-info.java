/**
 * Read-only access to task sandboxes for the agent's HTTP files API ({@code /files/browse}, {@code
 * /files/read}, {@code /files/download}): {@link io.mezzo.agent.files.SandboxFiles} resolves a path
 * and refuses anything outside the sandboxes (no {@code ..}, no absolute path, no symbolic link that
 * leads out of the sandbox it sits in). Stateless apart from the root; any thread (HTTP threads). It
 * reads the file system only, never the agent's state.
 */
package io.mezzo.agent.files;
