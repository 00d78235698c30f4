import { deviceHeaderSchema, ifMatchSchema } from '@overture/gateway-contract';
import { z } from 'zod';
import { HeadersParam } from '../http/request-params.js';
import type { QueueEdit } from './player.service.js';

const queueEditHeadersSchema = z
  .object({ 'if-match': ifMatchSchema, 'x-device-id': deviceHeaderSchema })
  .transform((headers): QueueEdit => ({ expectedVersion: headers['if-match'], deviceId: headers['x-device-id'] }));

/** Who makes a queue edit and the queue version it expects: If-Match and X-Device-Id, validated and documented. */
export const QueueEditParams = (): ParameterDecorator =>
  HeadersParam(queueEditHeadersSchema, { 'If-Match': ifMatchSchema, 'X-Device-Id': deviceHeaderSchema });
