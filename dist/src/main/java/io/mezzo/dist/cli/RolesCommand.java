package io.mezzo.dist.cli;

import io.mezzo.proto.v1.GetRolesRequest;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import io.mezzo.proto.v1.Value;
import io.mezzo.proto.v1.WeightInfo;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mezzo roles}: every role with its weight, quota and what its subtree holds; and the
 * {@code mezzo quota get|set|remove} and {@code mezzo weights get|set} commands ({@link Quota},
 * {@link Weights}), in human units both ways.
 */
@Command(name = "roles", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Lists the roles: weight, frameworks, allocated (offered or used), quota guarantee and limit,"
                + " and what counts against the quota, each for the role's whole subtree.")
final class RolesCommand extends OperatorCommand {

    @Option(names = "--json", description = "Print the API's GetRoles answer as JSON (proto field names)."
            + " Default: a table.")
    boolean json;

    @Override
    void run(LeaderConnection leader, PrintStream out, Instant now) {
        GetRolesResponse r = roles(leader);
        if (json) {
            out.println(Render.json(r));
            return;
        }
        Table t = new Table("ROLE", "WEIGHT", "FRAMEWORKS", "ALLOCATED", "GUARANTEE", "LIMIT", "CONSUMED");
        for (RoleView v : r.getRolesList()) {
            t.row(v.getRole(), weight(v.getWeight()), v.getFrameworksCount(), Render.amounts(v.getAllocatedList()),
                    Render.quota(v.getQuota().getGuaranteesMap()), Render.quota(v.getQuota().getLimitsMap()),
                    Render.amounts(v.getConsumedQuotaList()));
        }
        out.print(t.render());
        if (r.getOvercommittedCount() > 0) {
            out.println();
            out.println("Guarantees exceed the cluster by " + Render.amounts(r.getOvercommittedList()) + " (total "
                    + Render.amounts(r.getTotalList()) + ")");
        }
    }

    static GetRolesResponse roles(LeaderConnection leader) {
        return leader.read(s -> s.getRoles(GetRolesRequest.getDefaultInstance()));
    }

    /** A weight as typed: {@code 2}, {@code 0.5}, never {@code 2.0} or an exponent. */
    static String weight(double w) {
        return BigDecimal.valueOf(w).stripTrailingZeros().toPlainString();
    }

    /** {@code mezzo quota}. */
    @Command(name = "quota", mixinStandardHelpOptions = true, description = "Shows and sets the quotas of roles.",
            subcommands = {QuotaGet.class, QuotaSet.class, QuotaRemove.class})
    static final class Quota implements Runnable {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    /** {@code mezzo quota get [ROLE]}. */
    @Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Shows the quota of ROLE, or of every role that has one: guarantee, limit, and what its"
                    + " subtree consumes (unreserved allocations plus reservations).")
    static final class QuotaGet extends OperatorCommand {

        @Parameters(index = "0", arity = "0..1", paramLabel = "ROLE", description = "The role. Default: every role with"
                + " a quota.")
        String role;

        @Option(names = "--json", description = "Print the roles' views from the API's GetRoles answer as JSON (proto"
                + " field names). Default: a table.")
        boolean json;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            GetRolesResponse all = roles(leader);
            List<RoleView> shown = new ArrayList<>();
            for (RoleView v : all.getRolesList()) {
                boolean hasQuota = v.getQuota().getGuaranteesCount() > 0 || v.getQuota().getLimitsCount() > 0;
                if (role == null ? hasQuota : v.getRole().equals(role)) {
                    shown.add(v);
                }
            }
            if (role != null && shown.isEmpty()) {
                // A role the master has never heard of has no quota: say so rather than fail.
                shown.add(RoleView.newBuilder().setRole(role).setWeight(1).build());
            }
            if (json) {
                out.println(Render.json(all.toBuilder().clearRoles().addAllRoles(shown)));
                return;
            }
            Table t = new Table("ROLE", "GUARANTEE", "LIMIT", "CONSUMED");
            for (RoleView v : shown) {
                t.row(v.getRole(), Render.quota(v.getQuota().getGuaranteesMap()),
                        Render.quota(v.getQuota().getLimitsMap()), Render.amounts(v.getConsumedQuotaList()));
            }
            out.print(t.render());
        }
    }

    /** {@code mezzo quota set ROLE NAME=AMOUNT...}. */
    @Command(name = "set", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Sets (replaces) the quota of ROLE's subtree. NAME=AMOUNT items set both the guarantee and"
                    + " the limit; --guarantee and --limit set one of them. Amounts in human units: cpus=0.5,"
                    + " mem=1.5GB, disk=100GB (mem and disk in MB without a unit; 1GB = 1024MB), exact to a"
                    + " thousandth. A name not in the limit is not limited.",
                "Example: mezzo quota set eng --guarantee cpus=2,mem=4GB --limit cpus=8,mem=16GB"})
    static final class QuotaSet extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "ROLE", description = "The role, e.g. eng or eng/web (not *).")
        String role;

        @Parameters(index = "1..*", arity = "0..*", paramLabel = "NAME=AMOUNT",
                description = "Guarantee and limit at once, e.g. cpus=4 mem=8GB.")
        List<String> both = new ArrayList<>();

        @Option(names = "--guarantee", paramLabel = "NAME=AMOUNT[,...]",
                description = "Guaranteed amounts (repeatable or comma-separated). Default: none beyond NAME=AMOUNT.")
        List<String> guarantees = new ArrayList<>();

        @Option(names = "--limit", paramLabel = "NAME=AMOUNT[,...]",
                description = "Limits (repeatable or comma-separated). Default: none beyond NAME=AMOUNT.")
        List<String> limits = new ArrayList<>();

        @Option(names = "--force", description = "Apply even if the guarantees then add up to more than the cluster has"
                + " (an over-commit). Default: refuse an over-commit.")
        boolean force;

        private UpdateQuotaRequest request;

        @Override
        void validate() {
            Map<String, Long> common = HumanUnits.parseAmounts(both);
            Map<String, Long> g = HumanUnits.parseAmounts(guarantees);
            Map<String, Long> l = HumanUnits.parseAmounts(limits);
            QuotaConfig.Builder q = QuotaConfig.newBuilder().setRole(role);
            for (Map.Entry<String, Long> e : common.entrySet()) {
                if (g.containsKey(e.getKey()) || l.containsKey(e.getKey())) {
                    throw new IllegalArgumentException(e.getKey() + " is given both as NAME=AMOUNT and with --guarantee"
                            + " or --limit");
                }
                q.putGuarantees(e.getKey(), scalar(e.getValue()));
                q.putLimits(e.getKey(), scalar(e.getValue()));
            }
            g.forEach((name, milli) -> q.putGuarantees(name, scalar(milli)));
            l.forEach((name, milli) -> q.putLimits(name, scalar(milli)));
            if (q.getGuaranteesCount() == 0 && q.getLimitsCount() == 0) {
                throw new IllegalArgumentException("give at least one NAME=AMOUNT, --guarantee or --limit"
                        + " (`mezzo quota remove " + role + "` removes the quota)");
            }
            request = UpdateQuotaRequest.newBuilder().addQuotas(q).setForce(force).build();
        }

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            leader.change(s -> s.updateQuota(request), LeaderConnection.Retry.IDEMPOTENT);
            QuotaConfig q = request.getQuotas(0);
            out.println("quota of " + role + ": guarantee " + Render.quota(q.getGuaranteesMap()) + ", limit "
                    + Render.quota(q.getLimitsMap()));
        }
    }

    /** {@code mezzo quota remove ROLE}. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Removes the quota of ROLE: no guarantee, no limit.")
    static final class QuotaRemove extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "ROLE", description = "The role.")
        String role;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            leader.change(s -> s.updateQuota(UpdateQuotaRequest.newBuilder()
                    .addQuotas(QuotaConfig.newBuilder().setRole(role)).build()), LeaderConnection.Retry.IDEMPOTENT);
            out.println("quota of " + role + " removed");
        }
    }

    private static Value.Scalar scalar(long milli) {
        return Value.Scalar.newBuilder().setMilli(milli).build();
    }

    /** {@code mezzo weights}. */
    @Command(name = "weights", mixinStandardHelpOptions = true, description = "Shows and sets the weights of roles.",
            subcommands = {WeightsGet.class, WeightsSet.class})
    static final class Weights implements Runnable {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    /** {@code mezzo weights get}. */
    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Shows the weight of every role the master knows (1 unless set).")
    static final class WeightsGet extends OperatorCommand {

        @Option(names = "--json", description = "Print the API's GetRoles answer as JSON (proto field names)."
                + " Default: a table.")
        boolean json;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            GetRolesResponse r = roles(leader);
            if (json) {
                out.println(Render.json(r));
                return;
            }
            Table t = new Table("ROLE", "WEIGHT", "SHARE");
            for (RoleView v : r.getRolesList()) {
                t.row(v.getRole(), weight(v.getWeight()), String.format(java.util.Locale.ROOT, "%.3f", v.getShare()));
            }
            out.print(t.render());
        }
    }

    /** {@code mezzo weights set ROLE=WEIGHT...}. */
    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Sets the weights of roles, all or none: a role of weight 2 gets twice the share of a role of"
                    + " weight 1 under contention. Weight 1 removes the setting. Other roles keep theirs.")
    static final class WeightsSet extends OperatorCommand {

        @Parameters(arity = "1..*", paramLabel = "ROLE=WEIGHT", description = "e.g. eng=2 ops=0.5.")
        List<String> items;

        private UpdateWeightsRequest request;

        @Override
        void validate() {
            UpdateWeightsRequest.Builder b = UpdateWeightsRequest.newBuilder();
            for (String item : items) {
                int eq = item.lastIndexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("'" + item + "' is not ROLE=WEIGHT, such as eng=2");
                }
                String text = item.substring(eq + 1).trim();
                double w;
                try {
                    w = Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("weight '" + text + "' of " + item.substring(0, eq)
                            + " is not a number");
                }
                if (!(w > 0) || Double.isInfinite(w)) {
                    throw new IllegalArgumentException("weight '" + text + "' of " + item.substring(0, eq)
                            + " must be a positive finite number");
                }
                b.addWeights(WeightInfo.newBuilder().setRole(item.substring(0, eq)).setWeight(w));
            }
            request = b.build();
        }

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            leader.change(s -> s.updateWeights(request), LeaderConnection.Retry.IDEMPOTENT);
            for (WeightInfo w : request.getWeightsList()) {
                out.println("weight of " + w.getRole() + ": " + weight(w.getWeight()));
            }
        }
    }
}
