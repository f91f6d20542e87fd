/**
 * Rules every daemon applies to untrusted input at its edge, in one copy: the id rule ({@code
 * Ids}) and the documented length limits of free-text fields ({@code Limits}), plus the way log
 * lines show an untrusted field ({@code Limits.shown}). Pure and stateless; any thread.
 */
package io.mezzo.common.validation;
