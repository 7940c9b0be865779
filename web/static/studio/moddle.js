// Moddle descriptors: Tramita's own extension elements (Fundamento legal, Plazo, the lane's Grupo)
// and the SpiffWorkflow extensions the shipped diagrams use, so a save keeps them.
export const tramita = {
  name: 'Tramita',
  prefix: 'tramita',
  uri: 'http://tramita.mx/schema/bpmn/1.0',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    {
      name: 'Fundamento',
      superClass: ['Element'],
      properties: ['ley', 'articulo', 'fraccion', 'parrafo'].map((name) => ({ name, isAttr: true, type: 'String' }))
    },
    {
      name: 'Plazo',
      superClass: ['Element'],
      properties: ['cantidad', 'unidad', 'desde', 'sentido', 'repeticiones', 'mover', 'regla', 'articulo']
        .map((name) => ({ name, isAttr: true, type: 'String' }))
    },
    {
      name: 'LaneGroup',
      extends: ['bpmn:Lane'],
      properties: [{ name: 'grupo', isAttr: true, type: 'String' }]
    }
  ]
};

const body = (name) => ({ name, superClass: ['Element'], properties: [{ name: 'value', isBody: true, type: 'String' }] });

export const spiffworkflow = {
  name: 'SpiffWorkflow',
  prefix: 'spiffworkflow',
  uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    { name: 'Properties', superClass: ['Element'], properties: [{ name: 'properties', type: 'Property', isMany: true }] },
    {
      name: 'Property',
      superClass: ['Element'],
      properties: [{ name: 'name', isAttr: true, type: 'String' }, { name: 'value', isAttr: true, type: 'String' }]
    },
    body('CalledDecisionId'), body('MessageVariable'), body('MessagePayload'), body('PreScript'), body('PostScript'),
    body('InstructionsForEndUser'), body('ProcessVariableCorrelation')
  ]
};
