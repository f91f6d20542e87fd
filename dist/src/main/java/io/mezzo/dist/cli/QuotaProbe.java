package io.mezzo.dist.cli;

import io.mezzo.common.resources.Roles;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.dist.run.RunFramework;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.Value;
import java.time.Duration;
import java.util.Map;

/**
 * {@code mezzo run}'s {@link RunFramework.QuotaCheck}: asks the leader for its roles ({@code
 * GetRoles}) and tells whether the task's scalars fit under the quota limits of its role and of
 * each ancestor (a limit caps a role's whole subtree). Only loaded when a run waits for an offer
 * longer than usual, so that a run that gets one at once pays nothing for it. Runs on the run's
 * quota thread.
 */
final class QuotaProbe implements RunFramework.QuotaCheck {

    private final String role;
    private final Map<String, Long> request;
    private final TlsSettings tls;
    private final TlsSettings zkTls;
    private final Credential credential;

    QuotaProbe(String role, Map<String, Long> request, TlsSettings tls, TlsSettings zkTls, Credential credential) {
        this.role = role;
        this.request = request;
        this.tls = tls;
        this.zkTls = zkTls;
        this.credential = credential;
    }

    @Override
    public RunFramework.QuotaVerdict check(MasterInfo leader) {
        if (role.equals(Roles.DEFAULT)) {
            return RunFramework.QuotaVerdict.FITS; // "*" has no quota
        }
        String address = (leader.getIp().isEmpty() ? leader.getHostname() : leader.getIp()) + ":" + leader.getPort();
        try (LeaderConnection c = LeaderConnection.open(address, Duration.ofSeconds(10), tls, zkTls, credential)) {
            return verdict(RolesCommand.roles(c), role, request);
        }
    }

    /**
     * Whether {@code request} (thousandths per resource name) fits under the limits of {@code role}
     * and its ancestors in {@code roles}. What a role uses is what counts against its quota minus
     * what sits in outstanding offers (offers come and go; an offer this run declines frees its
     * share). Pure.
     */
    static RunFramework.QuotaVerdict verdict(GetRolesResponse roles, String role, Map<String, Long> request) {
        RunFramework.QuotaVerdict tight = RunFramework.QuotaVerdict.FITS;
        for (String r = role; r != null; r = r.contains("/") ? r.substring(0, r.lastIndexOf('/')) : null) {
            RoleView view = find(roles, r);
            if (view == null) {
                continue;
            }
            Map<String, Value.Scalar> limits = view.getQuota().getLimitsMap();
            Map<String, Long> consumed = Render.scalars(view.getConsumedQuotaList());
            Map<String, Long> offered = Render.scalars(view.getOfferedList());
            for (Map.Entry<String, Long> e : request.entrySet()) {
                Value.Scalar limit = limits.get(e.getKey());
                if (limit == null) {
                    continue;
                }
                String name = e.getKey();
                long want = e.getValue();
                long used = Math.max(0, consumed.getOrDefault(name, 0L) - offered.getOrDefault(name, 0L));
                String of = r.equals(role) ? "role " + r : "role " + r + " (an ancestor of " + role + ")";
                if (want > limit.getMilli()) {
                    return new RunFramework.QuotaVerdict(true, "the task needs " + name + " "
                            + HumanUnits.format(name, want) + " but the quota limit of " + of + " is " + name + " "
                            + HumanUnits.format(name, limit.getMilli()) + ": it can never run under this role"
                            + " (raise the limit with `mezzo quota set`)");
                }
                if (want > limit.getMilli() - used && tight.message() == null) {
                    tight = new RunFramework.QuotaVerdict(false, "the quota limit of " + of + " is " + name + " "
                            + HumanUnits.format(name, limit.getMilli()) + " and it uses " + HumanUnits.format(name, used)
                            + ": the task's " + name + " " + HumanUnits.format(name, want) + " does not fit until"
                            + " the role's tasks free " + HumanUnits.format(name, want - (limit.getMilli() - used)));
                }
            }
        }
        return tight;
    }

    private static RoleView find(GetRolesResponse roles, String role) {
        for (RoleView v : roles.getRolesList()) {
            if (v.getRole().equals(role)) {
                return v;
            }
        }
        return null;
    }
}
