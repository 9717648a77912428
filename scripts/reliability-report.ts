import { reliabilityReportCommand } from "./lib/reliability-report.ts";
import { main } from "./lib/shared/cli.ts";

await main(reliabilityReportCommand);
