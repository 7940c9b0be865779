// The "Tramita" groups of the properties panel: Fundamento legal (a list), Plazo, Formulario, Grupo.
import { html } from 'htm/preact';
import { ListGroup, SelectEntry, TextFieldEntry, CheckboxEntry, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';
import { expression, UNITS } from './plazo.js';

const FORM_PROPERTY = 'formJsonSchemaFilename';

function extensions(bo, type) {
  return ((bo.extensionElements && bo.extensionElements.values) || []).filter((v) => is(v, type));
}

function ensureExtensionElements(element, bo, bpmnFactory, modeling) {
  let ext = bo.extensionElements;
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  return ext;
}

function addExtension(element, bo, type, attrs, bpmnFactory, modeling) {
  const ext = ensureExtensionElements(element, bo, bpmnFactory, modeling);
  const created = bpmnFactory.create(type, attrs);
  created.$parent = ext;
  modeling.updateModdleProperties(element, ext, { values: [...(ext.values || []), created] });
  return created;
}

// --- Fundamento legal -------------------------------------------------------------------------

function FundamentoField(props) {
  const { element, id, fundamento, name, label } = props;
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return html`<${TextFieldEntry} element=${element} id=${id} label=${label} debounce=${debounce}
    getValue=${() => fundamento.get(name) || ''}
    setValue=${(value) => modeling.updateModdleProperties(element, fundamento, { [name]: value || undefined })} />`;
}

function fundamentoGroup(element, injector) {
  const bo = getBusinessObject(element);
  const bpmnFactory = injector.get('bpmnFactory');
  const modeling = injector.get('modeling');
  const items = extensions(bo, 'tramita:Fundamento').map((f, i) => {
    const id = `${element.id}-fundamento-${i}`;
    const fields = [['ley', 'Ley'], ['articulo', 'Artículo'], ['fraccion', 'Fracción'], ['parrafo', 'Párrafo']];
    return {
      id,
      label: [f.get('ley'), f.get('articulo') && `art. ${f.get('articulo')}`, f.get('fraccion'), f.get('parrafo')]
        .filter(Boolean).join(', ') || 'Fundamento sin datos',
      entries: fields.map(([name, label]) => ({
        id: `${id}-${name}`, component: FundamentoField, fundamento: f, name, label, isEdited: isTextFieldEntryEdited
      })),
      autoFocusEntry: `${id}-ley`,
      remove: (event) => {
        event && event.stopPropagation && event.stopPropagation();
        const ext = bo.extensionElements;
        modeling.updateModdleProperties(element, ext, { values: ext.values.filter((v) => v !== f) });
      }
    };
  });
  return {
    id: 'tramita-fundamento',
    label: 'Fundamento legal',
    component: ListGroup,
    items,
    shouldSort: false,
    add: (event) => {
      event && event.stopPropagation && event.stopPropagation();
      addExtension(element, bo, 'tramita:Fundamento', {}, bpmnFactory, modeling);
    }
  };
}

// --- Plazo ----------------------------------------------------------------------------------

function timerOf(bo) {
  return (bo.eventDefinitions || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function writeDeadline(element, bo, plazo, injector) {
  const modeling = injector.get('modeling');
  const bpmnFactory = injector.get('bpmnFactory');
  let text;
  try {
    text = expression(plazo);
  } catch (err) {
    return; // incomplete Plazo: the lint says what is missing
  }
  const timer = timerOf(bo);
  if (timer) {
    const kind = plazo.repeticiones ? 'timeCycle' : 'timeDate';
    const formal = bpmnFactory.create('bpmn:FormalExpression', { body: text });
    formal.$parent = timer;
    modeling.updateModdleProperties(element, timer, {
      timeDate: kind === 'timeDate' ? formal : undefined,
      timeCycle: kind === 'timeCycle' ? formal : undefined,
      timeDuration: undefined
    });
    return;
  }
  setSpiffProperty(element, bo, 'dueDate', text, injector);
}

function setSpiffProperty(element, bo, name, value, injector) {
  const modeling = injector.get('modeling');
  const bpmnFactory = injector.get('bpmnFactory');
  let props = extensions(bo, 'spiffworkflow:Properties')[0];
  if (!props) {
    props = addExtension(element, bo, 'spiffworkflow:Properties', { properties: [] }, bpmnFactory, modeling);
  }
  const existing = (props.properties || []).find((p) => p.name === name);
  if (existing && value) {
    modeling.updateModdleProperties(element, existing, { value });
  } else if (existing) {
    modeling.updateModdleProperties(element, props, { properties: props.properties.filter((p) => p !== existing) });
  } else if (value) {
    const prop = bpmnFactory.create('spiffworkflow:Property', { name, value });
    prop.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...(props.properties || []), prop] });
  }
}

function plazoValues(p) {
  const v = (n) => (p ? p.get(n) || '' : '');
  return {
    cantidad: v('cantidad'), unidad: v('unidad'), desde: v('desde'), sentido: v('sentido') || 'despues',
    repeticiones: v('repeticiones'), mover: v('mover') || 'true', articulo: v('articulo'), regla: v('regla')
  };
}

function PlazoField(props) {
  const { element, id, name, label, options, checkbox, description } = props;
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  const current = () => extensions(bo, 'tramita:Plazo')[0];
  const getValue = () => plazoValues(current())[name];
  const setValue = (value) => {
    const modeling = injector.get('modeling');
    let p = current();
    const stored = checkbox ? (value ? undefined : 'false') : (value || undefined);
    if (!p) {
      p = addExtension(element, bo, 'tramita:Plazo', { [name]: stored }, injector.get('bpmnFactory'), modeling);
    } else {
      modeling.updateModdleProperties(element, p, { [name]: stored });
    }
    writeDeadline(element, bo, plazoValues(p), injector);
  };
  if (checkbox) {
    return html`<${CheckboxEntry} element=${element} id=${id} label=${label}
      getValue=${() => getValue() !== 'false'} setValue=${setValue} />`;
  }
  if (options) {
    return html`<${SelectEntry} element=${element} id=${id} label=${label} getValue=${getValue} setValue=${setValue}
      getOptions=${() => options} />`;
  }
  return html`<${TextFieldEntry} element=${element} id=${id} label=${label} description=${description}
    debounce=${debounce} getValue=${getValue} setValue=${setValue} />`;
}

function plazoGroup(element) {
  const id = (n) => `${element.id}-plazo-${n}`;
  const entry = (name, label, extra) => ({ id: id(name), component: PlazoField, name, label, ...(extra || {}) });
  return {
    id: 'tramita-plazo',
    label: 'Plazo',
    entries: [
      entry('cantidad', 'Cantidad', { description: 'Número, parámetro legal (parametros.…) o dato del caso; se pueden sumar con +' }),
      entry('unidad', 'Unidad', {
        options: [{ value: '', label: '<elija>' }, ...Object.entries(UNITS).map(([value, u]) => ({ value, label: u[1] }))]
      }),
      entry('desde', 'Desde la fecha del caso', { description: 'p. ej. fecha_emision' }),
      entry('sentido', 'Después o antes', {
        options: [{ value: 'despues', label: 'Después de la fecha' }, { value: 'antes', label: 'Antes de la fecha' }]
      }),
      entry('repeticiones', 'Se repite (veces)', { description: 'Vacío si no se repite' }),
      entry('mover', 'Si vence en día inhábil, pasa al siguiente hábil', { checkbox: true }),
      entry('regla', 'Regla de los meses', {
        description: 'Solo para meses: administrativa (LFPA art. 29), prescripcion (Código Civil art. 1180) '
          + 'o el parámetro legal que la cita (p. ej. parametros.sancion.prescripcion_regla)'
      }),
      entry('articulo', 'Artículo que fija el plazo')
    ]
  };
}

// --- Formulario and Grupo ---------------------------------------------------------------------

function FormField(props) {
  const { element, id, options } = props;
  const injector = useService('injector');
  const bo = getBusinessObject(element);
  const getValue = () => {
    const p = extensions(bo, 'spiffworkflow:Properties')[0];
    const prop = p && (p.properties || []).find((x) => x.name === FORM_PROPERTY);
    return prop ? prop.value : '';
  };
  return html`<${SelectEntry} element=${element} id=${id} label="Formulario" getValue=${getValue}
    setValue=${(value) => setSpiffProperty(element, bo, FORM_PROPERTY, value, injector)}
    getOptions=${() => [{ value: '', label: '<ninguno>' }, ...options.forms.map((f) => ({ value: f, label: f }))]} />`;
}

function GroupField(props) {
  const { element, id, options } = props;
  const modeling = useService('modeling');
  const bo = getBusinessObject(element);
  const fromToml = options.lanes[bo.name || ''];
  return html`<${SelectEntry} element=${element} id=${id} label="Grupo que atiende el carril"
    description=${fromToml ? `lanes.toml: ${fromToml}` : 'El carril no está en lanes.toml: elija el grupo'}
    getValue=${() => bo.get('tramita:grupo') || ''}
    setValue=${(value) => modeling.updateModdleProperties(element, bo, { 'tramita:grupo': value || undefined })}
    getOptions=${() => [{ value: '', label: fromToml ? `(el de lanes.toml: ${fromToml})` : '<ninguno>' },
      ...options.groups.map((g) => ({ value: g, label: g }))]} />`;
}

export function TramitaPropertiesProvider(propertiesPanel, injector, tramitaOptions) {
  this.getGroups = (element) => (groups) => {
    const bo = getBusinessObject(element);
    const options = tramitaOptions || { forms: [], groups: [], lanes: {} };
    if (is(element, 'bpmn:Lane')) {
      groups.push({ id: 'tramita-grupo', label: 'Grupo', entries: [{ id: 'tramita-grupo-select', component: GroupField, options }] });
      return groups;
    }
    if (!is(element, 'bpmn:FlowNode')) return groups;
    groups.splice(1, 0, fundamentoGroup(element, injector));
    if (timerOf(bo) || is(element, 'bpmn:UserTask')) groups.splice(2, 0, plazoGroup(element));
    if (is(element, 'bpmn:UserTask') || is(element, 'bpmn:StartEvent')) {
      groups.splice(2, 0, { id: 'tramita-formulario', label: 'Formulario', entries: [{ id: 'tramita-form', component: FormField, options }] });
    }
    return groups;
  };
  propertiesPanel.registerProvider(400, this);
}
TramitaPropertiesProvider.$inject = ['propertiesPanel', 'injector', 'config.tramitaOptions'];

export default {
  __init__: ['tramitaPropertiesProvider'],
  tramitaPropertiesProvider: ['type', TramitaPropertiesProvider]
};
