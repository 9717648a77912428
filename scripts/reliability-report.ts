import { main } from "./lib/cli/main.ts";
import { reliabilityReportCommand } from "./lib/reliability/report-command.ts";

await main(reliabilityReportCommand);
