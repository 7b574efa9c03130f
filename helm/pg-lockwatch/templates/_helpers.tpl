{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "pg-lockwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: release name + chart name, unless the release name already contains the chart name.
Truncated to 63 characters because some Kubernetes name fields are limited to that (DNS-1123 labels).
*/}}
{{- define "pg-lockwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "pg-lockwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "pg-lockwatch.labels" -}}
helm.sh/chart: {{ include "pg-lockwatch.chart" . }}
{{ include "pg-lockwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: stable for the life of a release (a Deployment's selector cannot change).
*/}}
{{- define "pg-lockwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pg-lockwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pod runs as.
*/}}
{{- define "pg-lockwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pg-lockwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: a digest pins it, else the tag (default: appVersion).
*/}}
{{- define "pg-lockwatch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The Secret holding passwords, hashes and the routing key: the user's existingSecret, or the chart's own.
*/}}
{{- define "pg-lockwatch.secretName" -}}
{{- default (include "pg-lockwatch.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
The `job` label of pg-lockwatch's series, selected by the "pg-lockwatch is down" alerts.
*/}}
{{- define "pg-lockwatch.jobName" -}}
{{- default (include "pg-lockwatch.fullname" .) .Values.metrics.jobName }}
{{- end }}

{{/*
"true" when the incident store is the embedded H2 file on a PersistentVolumeClaim. H2 locks its file, so two
pods can never share it: one replica, and strategy Recreate.
*/}}
{{- define "pg-lockwatch.h2OnVolume" -}}
{{- if and (eq .Values.store.type "h2") .Values.store.h2.persistence.enabled }}true{{- end }}
{{- end }}

{{/*
The port that serves /actuator: the separate management port when set, else the API port.
*/}}
{{- define "pg-lockwatch.managementPortName" -}}
{{- if gt (int .Values.management.port) 0 }}management{{- else }}http{{- end }}
{{- end }}

{{/*
Secret keys. Names of targets are [a-z0-9-], already valid in a key; user names may hold '@', which a key
may not, so every character outside [-._a-zA-Z0-9] becomes '_'.
*/}}
{{- define "pg-lockwatch.targetPasswordKey" -}}
{{- printf "target-%s-password" . }}
{{- end }}

{{- define "pg-lockwatch.userHashKey" -}}
{{- printf "user-%s-password-hash" (regexReplaceAll "[^-._a-zA-Z0-9]" . "_") }}
{{- end }}

{{/*
Environment variables that carry secrets into the placeholders of the mounted application.yaml. They must NOT
be PGLOCKWATCH_TARGETS_<i>_PASSWORD: Spring binds a list (pglockwatch.targets) from the single highest-precedence
source that has any element of it, so such a variable would replace the file's whole target list with a
target that has only a password. A name outside pglockwatch.* is resolved as a ${...} placeholder instead.
*/}}
{{- define "pg-lockwatch.targetPasswordEnv" -}}
{{- printf "PGLW_TARGET_%d_PASSWORD" (int .) }}
{{- end }}

{{- define "pg-lockwatch.userHashEnv" -}}
{{- printf "PGLW_USER_%d_PASSWORD_HASH" (int .) }}
{{- end }}

{{/*
Whether a target's password reaches the pod, and from where: "ref" (its own passwordSecretRef), "secret" (the
chart's Secret or existingSecret), or "" (no password: e.g. certificate authentication).
*/}}
{{- define "pg-lockwatch.targetPasswordSource" -}}
{{- $t := .target }}
{{- if and $t.passwordSecretRef $t.passwordSecretRef.name }}ref
{{- else if or $t.password .root.Values.existingSecret }}secret
{{- end }}
{{- end }}

{{/*
Where the store password comes from: "ref", "secret" or "" (as for targets).
*/}}
{{- define "pg-lockwatch.storePasswordSource" -}}
{{- $pg := .Values.store.postgresql }}
{{- if eq .Values.store.type "postgresql" }}
{{- if and $pg.passwordSecretRef $pg.passwordSecretRef.name }}ref
{{- else if or $pg.password .Values.existingSecret }}secret
{{- end }}
{{- end }}
{{- end }}

{{/*
"true" when the PagerDuty channel is on.
*/}}
{{/*
"true" while single sign-on is on (config.security.oidc.issuer-uri set).
*/}}
{{- define "pg-lockwatch.oidcEnabled" -}}
{{- $security := default dict .Values.config.security }}
{{- if index (default dict $security.oidc) "issuer-uri" }}true{{- end }}
{{- end }}

{{- define "pg-lockwatch.pagerdutyEnabled" -}}
{{- if or .Values.pagerduty.enabled .Values.pagerduty.routingKey }}true{{- end }}
{{- end }}

{{/*
Checks that catch a broken configuration at `helm install` rather than in a crash-looping pod. Checks that
the service makes anyway (a missing target or user) are left to it and to NOTES.txt, so that `helm lint` of
the chart's defaults passes.
*/}}
{{- define "pg-lockwatch.validate" -}}
{{- if not (has .Values.store.type (list "h2" "postgresql")) }}
{{- fail (printf "store.type must be h2 or postgresql, not %q" .Values.store.type) }}
{{- end }}
{{- if and (eq .Values.store.type "h2") (gt (int .Values.replicaCount) 1) }}
{{- fail "replicaCount > 1 needs store.type=postgresql: H2 is a single-process file, so replicas cannot share incident history (see docs/scaling.md)" }}
{{- end }}
{{- if and (eq .Values.store.type "postgresql") (not .Values.store.postgresql.url) }}
{{- fail "store.type=postgresql needs store.postgresql.url, e.g. jdbc:postgresql://ops-db:5432/pglockwatch" }}
{{- end }}
{{- if hasKey .Values.config "targets" }}
{{- fail "set targets under `targets`, not config.targets: passwords must go to the Secret" }}
{{- end }}
{{- if and (hasKey .Values.config "cluster") (hasKey (default dict .Values.config.cluster) "instance-name") }}
{{- fail "do not set config.cluster.instance-name: each pod takes its own pod name (PGLOCKWATCH_CLUSTER_INSTANCE_NAME), and the replicas of a store need names of their own, not one for all" }}
{{- end }}
{{- if and (hasKey .Values.config "security") (hasKey .Values.config.security "users") }}
{{- fail "set users under `users`, not config.security.users: password hashes must go to the Secret" }}
{{- end }}
{{- if and (hasKey .Values.config "alerts") (hasKey .Values.config.alerts "pagerduty") }}
{{- if or (hasKey .Values.config.alerts.pagerduty "routing-key") (hasKey .Values.config.alerts.pagerduty "routingKey") }}
{{- fail "set the PagerDuty routing key as pagerduty.routingKey (or in existingSecret), not under config: it is a secret" }}
{{- end }}
{{- end }}
{{- if and (hasKey .Values.config "security") (hasKey (default dict .Values.config.security.oidc) "client-secret") }}
{{- fail "set the single sign-on client secret as oidc.clientSecret (or in existingSecret), not under config: it is a secret" }}
{{- end }}
{{- if and (include "pg-lockwatch.oidcEnabled" .) (not .Values.oidc.clientSecret) (not .Values.existingSecret) }}
{{- fail "config.security.oidc.issuer-uri needs oidc.clientSecret, or key oidc-client-secret in existingSecret" }}
{{- end }}
{{- if and .Values.pagerduty.enabled (not .Values.pagerduty.routingKey) (not .Values.existingSecret) }}
{{- fail "pagerduty.enabled needs pagerduty.routingKey, or key pagerduty-routing-key in existingSecret" }}
{{- end }}
{{- $channelOn := or (include "pg-lockwatch.pagerdutyEnabled" .) .Values.config.alerts.webhook.url }}
{{- if and $channelOn (not (index .Values.config.alerts "dashboard-url")) }}
{{- fail "an alert channel is on: set config.alerts.dashboard-url to the dashboard's public URL (alerts link to the incident page)" }}
{{- end }}
{{- range $i, $t := .Values.targets }}
{{- if not $t.name }}
{{- fail (printf "targets[%d] needs a name" $i) }}
{{- end }}
{{- if and $t.password $.Values.existingSecret }}
{{- fail (printf "target %s: password is set but existingSecret is used; put the password in that Secret under key %s" $t.name (include "pg-lockwatch.targetPasswordKey" $t.name)) }}
{{- end }}
{{- end }}
{{- range $i, $u := .Values.users }}
{{- if and $u.passwordHash $.Values.existingSecret }}
{{- fail (printf "user %s: passwordHash is set but existingSecret is used; put it in that Secret under key %s" $u.name (include "pg-lockwatch.userHashKey" $u.name)) }}
{{- end }}
{{- if and (not $u.passwordHash) (not $.Values.existingSecret) }}
{{- fail (printf "user %s needs a passwordHash (bcrypt), or existingSecret" $u.name) }}
{{- end }}
{{- end }}
{{- if and .Values.existingSecret (or .Values.pagerduty.routingKey .Values.store.postgresql.password .Values.oidc.clientSecret) }}
{{- fail "existingSecret is set: put pagerduty-routing-key, store-password and oidc-client-secret in it, not in pagerduty.routingKey / store.postgresql.password / oidc.clientSecret" }}
{{- end }}
{{- end }}

{{/*
The application.yaml mounted into the pod (spring.config.additional-location). Targets and users are written
here whole, so the list comes from one source, with ${...} placeholders where their secrets go; the placeholders
are resolved from environment variables that the Deployment fills from Secrets.
*/}}
{{- define "pg-lockwatch.applicationYaml" -}}
{{- $targets := list }}
{{- range $i, $t := .Values.targets }}
{{- $out := omit $t "password" "passwordSecretRef" }}
{{- if include "pg-lockwatch.targetPasswordSource" (dict "target" $t "root" $) }}
{{- $_ := set $out "password" (printf "${%s}" (include "pg-lockwatch.targetPasswordEnv" $i)) }}
{{- end }}
{{- $targets = append $targets $out }}
{{- end }}
{{- $users := list }}
{{- range $i, $u := .Values.users }}
{{- $out := omit $u "passwordHash" }}
{{- $_ := set $out "password-hash" (printf "${%s}" (include "pg-lockwatch.userHashEnv" $i)) }}
{{- $users = append $users $out }}
{{- end }}
{{- $pglockwatch := deepCopy .Values.config }}
{{- $_ := set $pglockwatch "targets" $targets }}
{{- $security := deepCopy (default dict .Values.config.security) }}
{{- if $users }}
{{- $_ := set $security "users" $users }}
{{- end }}
{{- $_ := set $pglockwatch "security" $security }}
{{- $datasource := dict }}
{{- if eq .Values.store.type "postgresql" }}
{{- $_ := set $datasource "url" .Values.store.postgresql.url }}
{{- if .Values.store.postgresql.username }}
{{- $_ := set $datasource "username" .Values.store.postgresql.username }}
{{- end }}
{{- else }}
{{- /* absolute, so it does not depend on the working directory; /app/data is the volume */}}
{{- $_ := set $datasource "url" "jdbc:h2:file:/app/data/pglockwatch" }}
{{- end }}
{{- $logging := dict "level" (dict "io.pglockwatch" .Values.logging.level) }}
{{- if .Values.logging.structuredFormat }}
{{- $_ := set $logging "structured" (dict "format" (dict "console" .Values.logging.structuredFormat)) }}
{{- end }}
{{- $doc := dict "pglockwatch" $pglockwatch "spring" (dict "datasource" $datasource) "logging" $logging }}
{{- $_ := set $doc "server" (dict "forward-headers-strategy" .Values.server.forwardHeadersStrategy) }}
{{- if gt (int .Values.management.port) 0 }}
{{- $_ := set $doc "management" (dict "server" (dict "port" (int .Values.management.port))) }}
{{- end }}
{{- toYaml $doc }}
{{- end }}
