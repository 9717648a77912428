import { main } from "./lib/cli/main.ts";
import { publishCommand } from "./lib/publish/publish-command.ts";

await main(publishCommand);
