import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { asyncApiDocument } from '../asyncapi';
import {
  hostsOf,
  noAnswer,
  timeoutOf,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { print } from '../output';
import { discover } from '../discovery';

interface AsyncApiFlags extends ConnectionFlags {
  out?: string;
  title: string;
}

export function asyncApiCommand(): Command {
  return withConnectionOptions(new Command('asyncapi'))
    .description(
      'print an AsyncAPI 3.0 document of the running services (any NATS Service API service): channels, operations, schemas, queue groups, replies and errors',
    )
    .option(
      '--out <file>',
      'write it to a file instead (JSON when the name ends in .json, else YAML)',
    )
    .option('--title <title>', "the document's title", 'NATS services')
    .option('--json', 'print JSON instead of YAML')
    .action(async (flags: AsyncApiFlags) => {
      const services = await withClient(flags, (c) =>
        discover(c.bus, 'INFO', undefined, timeoutOf(flags)),
      );
      if (services.length === 0) throw noAnswer(flags, 'no service answered');
      const document = asyncApiDocument(services, {
        title: flags.title,
        servers: hostsOf(flags.server),
      });
      const asJson = flags.json === true || flags.out?.endsWith('.json') === true;
      const text = asJson ? `${JSON.stringify(document, null, 2)}\n` : stringify(document);
      if (!flags.out) {
        process.stdout.write(text);
        return;
      }
      writeFileSync(flags.out, text);
      print(`wrote ${flags.out}: ${Object.keys(document['channels'] as object).length} channels`);
    });
}
