/**
 * Pure validators of what reaches the master: SUBSCRIBE's FrameworkInfo ({@code
 * FrameworkValidation}), an agent's AgentInfo ({@code AgentValidation}), ids ({@code
 * IdValidation}), a task to launch ({@code TaskValidation}), a whole ACCEPT ({@code
 * AcceptValidation}, which returns a plan or a refusal), refusal filters ({@code
 * FilterValidation}) and the operator's weights and quotas ({@code RoleConfigValidation}).
 *
 * <p>Each takes plain inputs (protobuf messages, typed ids, resources, read-only views the master
 * hands in) and returns null, a reason, or an outcome; none sees the master's records, its loop or
 * its clock ({@code MasterArchitectureTest} checks it), so each can be tested alone. Stateless: any
 * thread (the master calls them on its event loop). Error messages are part of the protocol:
 * schedulers, operators and tests read them.
 */
package io.mezzo.master.validation;
