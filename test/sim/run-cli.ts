// Runs the cutover CLI from sources (tests spawn it with `node --import tsx`; the compiled bin needs a build).
import { main } from "../../src/cli/main";

void main(process.argv).then((code) => process.exit(code));
