import { BadRequestError } from '../common/errors';
import { jsonCodec } from '../transport/json.codec';
import type { StepFactory } from './step';

/**
 * Decodes a JSON body into the payload the steps inside get; malformed JSON fails the message as
 * a 400 before anything inside runs. Off for `payload: 'raw'` handlers, which get the bytes.
 */
export const decodeBody: StepFactory = ({ definition }) =>
  definition.payload === 'raw'
    ? undefined
    : {
        wrap: (next) => (body, ctx) => {
          let payload: unknown;
          try {
            payload = jsonCodec.decode(body as Uint8Array);
          } catch (err) {
            throw new BadRequestError((err as Error).message);
          }
          return next(payload, ctx);
        },
      };
