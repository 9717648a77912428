import { main } from "./lib/cli/main.ts";
import { createSmokeCommand } from "./lib/smoke/smoke-command.ts";

await main(createSmokeCommand());
