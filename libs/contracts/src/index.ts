import { fileURLToPath } from 'node:url';

export * as authV1 from './generated/overture/auth/v1/auth.js';
export * as metadataV1 from './generated/overture/metadata/v1/metadata.js';
export * as playbackV1 from './generated/overture/playback/v1/playback.js';
export * as recommendationV1 from './generated/overture/recommendation/v1/recommendation.js';
// The error reasons of every contract, as sent on the wire; also at `@overture/contracts/error-reasons`,
// which loads no NestJS (the generated service code does).
export { AuthReason, CommonReason, GatewayReason, MetadataReason, PlaybackReason } from './error-reasons.js';

/** The folder holding `overture/<domain>/v1/*.proto`, the single source of every contract. */
export const PROTO_ROOT = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** A gRPC contract: its protobuf package and the .proto file (relative to PROTO_ROOT) that defines it. */
export interface ContractRef {
  readonly package: string;
  readonly file: string;
}

export const AUTH_V1: ContractRef = { package: 'overture.auth.v1', file: 'overture/auth/v1/auth.proto' };
export const METADATA_V1: ContractRef = { package: 'overture.metadata.v1', file: 'overture/metadata/v1/metadata.proto' };
export const PLAYBACK_V1: ContractRef = { package: 'overture.playback.v1', file: 'overture/playback/v1/playback.proto' };
export const RECOMMENDATION_V1: ContractRef = {
  package: 'overture.recommendation.v1',
  file: 'overture/recommendation/v1/recommendation.proto',
};

/**
 * @grpc/proto-loader options matching the ts-proto output: camelCase fields, 64-bit integers as
 * numbers, enums as numbers, scalar defaults filled in (proto3 `optional` fields stay undefined when unset).
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  arrays: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};
