import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Application } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { ApplicationSet } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet';
import { AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import { ClusterSecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore';
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import { SecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore';
import { Password } from '@kubernetes-models/external-secrets/generators.external-secrets.io/v1alpha1/Password';

/**
 * A kubernetes-models class: constructing it copies the object, `validate()` runs the model's JSON schema (compiled
 * by ajv into the package's `_schemas/*.js`; the packages ship the schemas only in that compiled form).
 */
export interface ModelClass {
  new (data?: never): { validate(): void };
  prototype: { validate(): void };
}

/** The model of every kind the platform renders, by `apiVersion/kind`. A kind missing here fails the tests. */
export const models: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ['v1/Namespace', Namespace],
  ['v1/ServiceAccount', ServiceAccount],
  ['v1/ConfigMap', ConfigMap],
  ['v1/Secret', Secret],
  ['v1/Service', Service],
  ['apps/v1/Deployment', Deployment],
  ['batch/v1/Job', Job],
  ['autoscaling/v2/HorizontalPodAutoscaler', HorizontalPodAutoscaler],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['networking.k8s.io/v1/Ingress', Ingress],
  ['networking.k8s.io/v1/NetworkPolicy', NetworkPolicy],
  ['keda.sh/v1alpha1/ScaledObject', ScaledObject],
  ['keda.sh/v1alpha1/TriggerAuthentication', TriggerAuthentication],
  ['argoproj.io/v1alpha1/Application', Application],
  ['argoproj.io/v1alpha1/ApplicationSet', ApplicationSet],
  ['argoproj.io/v1alpha1/AppProject', AppProject],
  ['external-secrets.io/v1/ExternalSecret', ExternalSecret],
  ['external-secrets.io/v1/ClusterSecretStore', ClusterSecretStore],
  ['external-secrets.io/v1/SecretStore', SecretStore],
  ['generators.external-secrets.io/v1alpha1/Password', Password],
]);

export function modelOf(object: { apiVersion: string; kind: string }): ModelClass | undefined {
  return models.get(`${object.apiVersion}/${object.kind}`);
}

/** Validates through the model class, exactly as `new Kind(object).validate()`; throws the model's error. */
export function validateWithModel(model: ModelClass, object: object): void {
  const Construct = model as unknown as new (data: object) => { validate(): void };
  new Construct(object).validate();
}

/**
 * The fields of `object` that the model's schema does not have. The models do not reject unknown fields, so the
 * compiled schema is run on a recording proxy of the object: for every object level, the validator reads each
 * property its schema declares (ajv's generated code tests `data.<prop> !== undefined` for all of them), and it
 * enumerates the keys only of free-form maps (`additionalProperties`: labels, annotations, ConfigMap data, KEDA
 * trigger metadata) or of closed objects it then checks itself. A key present in the object that was neither read
 * nor enumerated is unknown to the schema (its own children are not reported again).
 * Known gap of the packages: their compiled schemas drop properties literally named `description` (e.g.
 * AppProject spec.description), so such a field is reported as unknown; the manifests use none.
 */
export function unknownFields(model: ModelClass, object: object): string[] {
  const read = new Map<string, Set<string>>();
  const enumerated = new Set<string>();
  const note = (path: string, key: string): void => {
    let keys = read.get(path);
    if (!keys) read.set(path, (keys = new Set()));
    keys.add(key);
  };
  const record = (value: object, path: string): object =>
    new Proxy(value, {
      get(target, key, receiver) {
        const child: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return child;
        note(path, key);
        return typeof child === 'object' && child !== null ? record(child, `${path}/${key}`) : child;
      },
      has(target, key) {
        if (typeof key === 'string') note(path, key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        enumerated.add(path);
        return Reflect.ownKeys(target);
      },
    });
  try {
    model.prototype.validate.call(record(object, ''));
  } catch {
    // Invalid objects are reported by validateWithModel; the walk below still names the unknown keys.
  }
  const unknown: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${path}/${index}`));
      return;
    }
    const known = read.get(path);
    for (const [key, child] of Object.entries(value)) {
      if (!enumerated.has(path) && !known?.has(key)) unknown.push(`${path}/${key}`);
      else walk(child, `${path}/${key}`);
    }
  };
  walk(object, '');
  return unknown;
}
