import { useNavigate } from 'react-router';
import { flagsApi, type NewFlag } from '../api/endpoints.ts';
import { usePermissions } from '../auth/session.tsx';
import { useProjectName, useProjectPath } from '../auth/projects.tsx';
import { FlagDefinitionForm } from '../components/FlagDefinitionForm.tsx';
import { ReadOnlyNote, useToast } from '../components/ui.tsx';
import { useAction } from '../lib/hooks.ts';

export function CreateFlagPage() {
  const { project, canEdit, editReason } = usePermissions();
  const projectName = useProjectName(project);
  const inProject = useProjectPath();
  const navigate = useNavigate();
  const toast = useToast();
  const create = useAction(async (flag: NewFlag) => {
    const { data } = await flagsApi.create(project, flag);
    toast(`Flag ${data.key} created in ${projectName}; it is off in every environment.`);
    void navigate(`/flags/${data.key}`);
  });
  return (
    <section aria-labelledby="create-title">
      <div className="page-head">
        <h1 id="create-title">New flag</h1>
      </div>
      <p className="field-hint" data-testid="create-flag-project">
        In project <strong>{projectName}</strong> (<code>{project}</code>): its people and roles decide who may change it. Choose another
        project in the header before creating it elsewhere.
      </p>
      {canEdit ? (
        <FlagDefinitionForm
          onSubmit={(flag) => void create.run(flag)}
          busy={create.busy}
          error={create.error}
          submitLabel="Create flag"
          onCancel={() => void navigate(inProject('/flags'))}
        />
      ) : (
        <ReadOnlyNote reason={editReason} />
      )}
    </section>
  );
}
