export {
  type Recoverer,
  type RecoveryOptions,
  type RecoveryReport,
  type RedisReconciler,
  type RedisTruth,
  recentRecoveryReports,
  runRecovery,
} from './recovery.ts';
