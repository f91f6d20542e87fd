package io.mezzo.master.allocator;

import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.Resources;
import java.util.List;

/**
 * What the allocator knows of one role, for the operator API. Resource figures are scalars and
 * count the role's whole subtree.
 *
 * @param role the role's path
 * @param weight its weight
 * @param quota its quota
 * @param allocated offered or used by frameworks in the subtree
 * @param reserved reserved (statically or dynamically) for roles in the subtree
 * @param consumedQuota what counts against the quota: unreserved allocations plus reservations
 * @param frameworks frameworks subscribed to exactly this role
 * @param share the weighted dominant share the role is sorted by
 * @param unmetGuarantee what the subtree still lacks of the role's own guarantee (guarantee minus
 *     consumed quota, where positive)
 */
public record RoleSummary(
        String role,
        double weight,
        Quota quota,
        Resources allocated,
        Resources reserved,
        Resources consumedQuota,
        List<FrameworkId> frameworks,
        double share,
        Resources unmetGuarantee) {}
